package generation

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"time"

	"stillmotion/internal/billing"
	"stillmotion/internal/fault"
)

// Store persists generations and their render jobs.
type Store interface {
	// Insert stores g (Queued) and enqueues its render job in one
	// transaction. Unless unlimited, it debits g.Credits from the key
	// g.KeyID in the same transaction, and returns a fault.Forbidden error
	// (creating nothing) when the key's balance is short. If
	// g.IdempotencyKey is set, it records it (with g.RequestHash) in the
	// same transaction, or, when g.KeyID used that key within
	// IdempotencyWindow (concurrent inserts included), creates nothing and
	// returns a *KeyReusedError. If g.MaxInFlight is set and g.KeyID
	// already has that many generations queued or rendering, it creates
	// nothing and returns a fault.RateLimited error (concurrent inserts
	// of one key included); otherwise it sets g.InFlight. The render
	// job waits behind those of keys with fewer generations in flight.
	Insert(ctx context.Context, g *Generation, unlimited bool) error
	// Get returns the generation, or a fault.NotFound error.
	Get(ctx context.Context, id string) (*Generation, error)
	// Progress marks a non-terminal generation Generating with progress p
	// and, if plan is not empty, its shot plan. When it was Queued, its
	// EventStarted webhook jobs are enqueued in the same transaction. A
	// terminal one is left alone and a fault.Conflict error returned.
	Progress(ctx context.Context, id string, p float64, plan string) error
	// Finish ends a generation: Completed with v, or Failed with f, in
	// which case its credits go back to its key; its EventCompleted or
	// EventFailed webhook jobs (one per endpoint: the server's and its
	// callback_url) are enqueued in the same transaction. A generation that
	// has already ended is left alone and a fault.Conflict error returned.
	Finish(ctx context.Context, id string, v *Video, f *Failure) error
	// Cancel ends a Queued or Generating generation as Failed with f,
	// refunds its credits, enqueues its EventFailed webhooks and cancels
	// its render job, in one transaction.
	// Three things may follow: a job still waiting never starts; a running
	// one has its context cancelled on whichever worker holds it (and that
	// worker's heartbeat finds the generation ended anyway); a generation
	// that had already ended is left alone and a fault.Conflict error
	// returned.
	Cancel(ctx context.Context, id string, f *Failure) error
	// List returns the key's generations that are not deleted, ordered by
	// creation time (then id), starting after the generation q.After (a
	// fault.NotFound error if the key has no such generation), at most
	// q.Limit of them.
	List(ctx context.Context, keyID string, q ListQuery) ([]*Generation, error)
	// Delete marks an ended generation deleted: Get still returns it, with
	// Deleted set, and List leaves it out. A generation that has not ended,
	// or is already deleted, is left alone and a fault.Conflict error
	// returned.
	Delete(ctx context.Context, id string) error
	// QueuePosition returns a queued generation's place among the queued
	// generations of its engine, from 1 for the next to start; 0 when it is
	// not queued.
	QueuePosition(ctx context.Context, id string) (int, error)
	// SaveState records an engine's state for a generation that has not
	// ended (see Task.Save); Get returns it as EngineState. A generation
	// that has ended is left alone and a fault.Conflict error returned.
	SaveState(ctx context.Context, id, state string) error
	// CountPoll adds one to the generation's count of polls and returns
	// the count (a test script may put a fault on the Nth poll).
	CountPoll(ctx context.Context, id string) (int, error)
	// Expired returns up to limit generations that have ended (deleted
	// ones included) and were created earlier than before, oldest first.
	Expired(ctx context.Context, before time.Time, limit int) ([]*Generation, error)
	// Purge deletes the generations ids that have ended, with their
	// idempotency keys and finished render jobs, in one transaction, and
	// returns how many it deleted. An id that is gone, has not ended, or
	// is being purged by another process at that moment is skipped, so
	// purging twice is harmless.
	Purge(ctx context.Context, ids []string) (int, error)
}

// MaxListLimit is the largest page of generations a list route serves.
const MaxListLimit = 100

// ListQuery selects a page of a key's generations.
type ListQuery struct {
	After string // the id of the generation before the page; "" starts at the first
	Limit int
	Desc  bool // newest first
	// WithoutRequest lets the store leave each generation's Request zero,
	// for pages that do not show it (the v2 list): it is not decoded.
	WithoutRequest bool
}

// PollStore is a Store that can read a generation without its request,
// which a poll does not show; decoding it was a good part of a poll's time.
type PollStore interface {
	// GetForPoll is Get, with Request left zero.
	GetForPoll(ctx context.Context, id string) (*Generation, error)
}

// Blobs stores finished files, and the input images sent inline.
type Blobs interface {
	// Put moves the file at path into storage under key and returns its size.
	Put(ctx context.Context, key, path string) (int64, error)
	// Open reads the file under key; a key that holds nothing is a
	// fault.NotFound error.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// URL returns a download URL for key, valid for the store's configured
	// lifetime, served with the given file name.
	URL(ctx context.Context, key, fileName string) (string, error)
	// Delete removes key; removing a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Inputs keeps the files clients send inline, so that a generation's row
// holds a reference rather than the file, and gives engines a request's
// inputs.
type Inputs interface {
	// Keep stores the file of an inline URL field (a data: URI) for
	// generation id and returns the reference that replaces it; any other
	// URL comes back as it is. field (see URLFields) says what the file
	// must be.
	Keep(ctx context.Context, id, field, url string) (string, error)
	// Forget removes what Keep stored under ref; other URLs are left
	// alone.
	Forget(ctx context.Context, ref string) error
	// Input returns the input that req's URL field names.
	Input(req *Request, field string) Input
}

// Service accepts, reads and runs generations.
type Service struct {
	Store Store
	Blobs Blobs
	// Engines are the engine instances by name; a generation records the
	// name of its engine, which also names its queue.
	Engines map[string]Engine
	// Routes are the models served, each with its engine. Defaults to
	// DefaultRoutes.
	Routes []Route
	// Prices price generations whose route has none.
	Prices billing.Prices
	// TempDir holds files being rendered. Defaults to os.TempDir().
	TempDir string
	Logger  *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// NewID makes generation ids. Defaults to NewID.
	NewID func() string
	// Heartbeat is how often a running render records its progress, which
	// is also how it finds out that its generation was cancelled. Defaults
	// to 500 milliseconds.
	Heartbeat time.Duration
	// Observer, if set, is told how generations end (metrics).
	Observer Observer
	// Inputs, if set, keeps the images sent inline from submit on, and
	// gives engines a request's image.
	Inputs Inputs
	// CheckCallback, if set, vets a request's callback_url at submit (the
	// address rules); its error says what is wrong with the URL.
	CheckCallback func(url string) error
	// Preflight, if set, says whether this process can render now (its
	// disk has room): an error, whose kind names the failure, ends the
	// generation instead of a render that would fail halfway.
	Preflight func() error
	// MaxInFlight is how many generations one key may have queued or
	// rendering at once; a submit over it gets 429 (0: no limit).
	MaxInFlight int
	// Retention is how long a generation is kept after it was created:
	// Expire deletes the ended ones older than this, records and files.
	// Defaults to 0: kept forever.
	Retention time.Duration
	// Leasing, if set, lends render jobs to remote workers (see Lease).
	Leasing *Leasing
}

func (s *Service) routes() []Route {
	if len(s.Routes) > 0 {
		return s.Routes
	}
	return DefaultRoutes()
}

// Models returns the ids of the models served, in the order configured.
func (s *Service) Models() []string {
	rs := s.routes()
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.Model
	}
	return ids
}

// Route returns the route of model, or false when it is not served.
func (s *Service) Route(model string) (Route, bool) {
	for _, r := range s.routes() {
		if r.Model == model {
			return r, true
		}
	}
	return Route{}, false
}

// RoutesServed returns the routes of the models served.
func (s *Service) RoutesServed() []Route { return slices.Clone(s.routes()) }

func (s *Service) failed(name string) {
	if s.Observer != nil {
		s.Observer.Failed(name)
	}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) newID() string {
	if s.NewID != nil {
		return s.NewID()
	}
	return NewID()
}

func (s *Service) log() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

// Submit accepts req for the key keyID: it fixes the seed, prices the
// request and stores it with its job. The returned generation is Queued.
func (s *Service) Submit(ctx context.Context, keyID string, unlimited bool, req *Request) (*Generation, error) {
	g, _, err := s.SubmitOnce(ctx, keyID, unlimited, req, "")
	return g, err
}

// MaxIdempotencyKey is the longest idempotency key, in bytes.
const MaxIdempotencyKey = 255

// RequestHash returns the hex SHA-256 of req's canonical JSON: requests
// that differ only in spelling (whitespace, key order, defaults left out)
// hash the same.
func RequestHash(req *Request) string {
	b, _ := json.Marshal(req)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SubmitOnce is Submit with an idempotency key (none if key is ""). Three
// things may happen: the key is new (or was last used longer than
// IdempotencyWindow ago), and the generation is created as by Submit; the
// key was used by keyID with the same request, and that generation is
// returned (as by Get) with replayed true; or it was used with another
// request, and a fault.Conflict error is returned. A key that is longer
// than MaxIdempotencyKey or holds anything but printable ASCII gets a
// fault.Invalid error.
func (s *Service) SubmitOnce(ctx context.Context, keyID string, unlimited bool, req *Request, key string) (g *Generation, replayed bool, err error) {
	return s.SubmitAs(ctx, Submitter{KeyID: keyID, Unlimited: unlimited}, req, key)
}

// Submitter is who submits a generation, and how it is to run.
type Submitter struct {
	KeyID     string
	Unlimited bool // the key is never charged
	// Test makes it a test generation (see Generation.Test): free, and
	// run as Script says.
	Test   bool
	Script string
	// Engine, if set, renders it in place of its route's engine (a test
	// script's fast render).
	Engine string
	// Delay keeps it queued this long before a worker may take it.
	Delay time.Duration
}

// SubmitAs is SubmitOnce for the submitter who.
func (s *Service) SubmitAs(ctx context.Context, who Submitter, req *Request, key string) (g *Generation, replayed bool, err error) {
	keyID, unlimited := who.KeyID, who.Unlimited || who.Test
	if !validIdempotencyKey(key) {
		return nil, false, &fault.Error{Kind: fault.Invalid, Message: "Header validation error!",
			Fields: []fault.FieldError{{Field: "Idempotency-Key", Message: fmt.Sprintf("Expected 1 to %d printable ASCII characters", MaxIdempotencyKey)}}}
	}
	if req.CallbackURL != "" && s.CheckCallback != nil {
		if err := s.CheckCallback(req.CallbackURL); err != nil {
			return nil, false, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!",
				Fields: []fault.FieldError{{Field: "callback_url", Message: "Refused URL: callback_url " + err.Error()}}}
		}
	}
	g, err = s.newGeneration(keyID, req)
	if err != nil {
		return nil, false, err
	}
	if who.Test {
		// Its price is shown, as a real one's would be, but never
		// charged (Insert is told the key is unlimited) nor refunded.
		g.Test, g.Script = true, who.Script
	}
	if who.Engine != "" {
		g.Engine, g.Queue = who.Engine, ""
	}
	if who.Delay > 0 {
		g.StartAt = g.Created.Add(who.Delay)
	}
	if s.Inputs != nil {
		for _, field := range URLFields {
			u := g.Request.URL(field)
			if u == "" {
				continue
			}
			ref, kerr := s.Inputs.Keep(ctx, g.ID, field, u)
			if kerr != nil {
				return nil, false, kerr
			}
			if ref != u {
				g.Request.SetURL(field, ref)
				defer func() {
					if err != nil || replayed {
						s.forget(ctx, ref)
					}
				}()
			}
		}
	}
	if key != "" {
		g.IdempotencyKey, g.RequestHash = key, RequestHash(req)
	}
	g.MaxInFlight = s.MaxInFlight
	err = s.Store.Insert(ctx, g, unlimited)
	var reused *KeyReusedError
	if errors.As(err, &reused) {
		if reused.RequestHash != g.RequestHash {
			return nil, false, fault.Errorf(fault.Conflict, "Idempotency-Key %q was already used with a different request; send the same request to get its generation, or use a new key", key)
		}
		g, err = s.Get(ctx, keyID, reused.ID)
		if err != nil {
			return nil, false, err
		}
		return g, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	s.log().Info("generation queued", "id", g.ID, "key", keyID, "credits", g.Credits)
	return g, false, nil
}

// forget removes a kept input image, logging a failure.
func (s *Service) forget(ctx context.Context, ref string) {
	if s.Inputs == nil {
		return
	}
	if err := s.Inputs.Forget(context.WithoutCancel(ctx), ref); err != nil {
		s.log().Warn("removing an input image", "err", err)
	}
}

func validIdempotencyKey(key string) bool {
	if len(key) > MaxIdempotencyKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}

// newGeneration returns the Queued generation of req for keyID, its engine
// chosen by its model, its seed fixed and its price set.
func (s *Service) newGeneration(keyID string, req *Request) (*Generation, error) {
	route, ok := s.Route(cmp.Or(req.Model, Model))
	if !ok {
		return nil, &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Fields: []fault.FieldError{{Field: "model",
			Message: fmt.Sprintf("Invalid enum value. Expected %s, received '%s'", quoteList(s.Models()), fault.Echo(req.Model))}}}
	}
	warnings, err := route.check(req, s.routes())
	if err != nil {
		return nil, err
	}
	prices := s.Prices
	if route.Prices != nil {
		prices = *route.Prices
	}
	prices = billing.ForModel(route.Schema().Model, prices)
	r := *req
	r.Warnings = append(slices.Clip(req.Warnings), warnings...)
	if !r.SeedGiven {
		var b [8]byte
		rand.Read(b[:])
		r.Seed = int64(binary.LittleEndian.Uint64(b[:]) % (MaxSeed + 1))
	}
	now := s.now().UTC()
	return &Generation{
		ID:      s.newID(),
		KeyID:   keyID,
		Status:  Queued,
		Request: r,
		Engine:  route.Engine,
		Queue:   route.Queue,
		Credits: prices.Cost(usage(&r, route)),
		Created: now,
		Updated: now,
	}, nil
}

// usage returns what req is priced by on route r: an option the engine
// ignores (with a warning) is not charged.
func usage(req *Request, r Route) billing.Usage {
	u := billing.Usage{Resolution: req.Resolution, Seconds: req.Duration, Speech: req.Speech}
	if req.GenerateAudio != nil && *req.GenerateAudio && r.Honours(FieldGenerateAudio) {
		u.Extras = append(u.Extras, "audio")
	}
	if req.MultiClip && r.Honours(FieldMultiClip) {
		u.Extras = append(u.Extras, "multi_clip")
	}
	return u
}

// Get returns the generation id if the key keyID created it. Any other
// key gets a fault.NotFound error, exactly as for an id that does not exist.
func (s *Service) Get(ctx context.Context, keyID, id string) (*Generation, error) {
	return s.get(ctx, keyID, id, s.Store.Get)
}

// Poll is Get for an answer that does not show the request: the
// generation's Request may be left zero (see PollStore).
func (s *Service) Poll(ctx context.Context, keyID, id string) (*Generation, error) {
	if ps, ok := s.Store.(PollStore); ok {
		return s.get(ctx, keyID, id, ps.GetForPoll)
	}
	return s.Get(ctx, keyID, id)
}

func (s *Service) get(ctx context.Context, keyID, id string, read func(ctx context.Context, id string) (*Generation, error)) (*Generation, error) {
	g, err := read(ctx, id)
	if err != nil {
		return nil, err
	}
	if g.KeyID != keyID || g.Deleted {
		return nil, fault.Errorf(fault.NotFound, "Generation %q not found", fault.Echo(id))
	}
	if g.Orphaned {
		s.log().Error("generation orphaned: its render job ended without it", "id", id)
		f := &Failure{Name: fault.Render.String(), Message: "Rendering stopped unexpectedly on every attempt (the workers running it stopped); the generation was not charged"}
		err := s.Store.Finish(ctx, id, nil, f)
		if err != nil && fault.KindOf(err) != fault.Conflict {
			return nil, err
		}
		if err == nil {
			s.failed(f.Name)
		}
		return s.Store.Get(ctx, id)
	}
	return g, nil
}

// List returns a page of the key keyID's generations (deleted ones left
// out). Limit defaults to 20 and is at most MaxListLimit+1: a caller
// serving pages of up to MaxListLimit asks for one more to learn whether
// there is more.
func (s *Service) List(ctx context.Context, keyID string, q ListQuery) ([]*Generation, error) {
	if q.Limit <= 0 {
		q.Limit = 20
	}
	q.Limit = min(q.Limit, MaxListLimit+1)
	return s.Store.List(ctx, keyID, q)
}

// Delete deletes generation id for the key keyID: a generation that has not
// ended is cancelled first (and refunded); then it is hidden from Get and
// List, and its file is removed. Any other key gets a fault.NotFound error,
// as for Get.
func (s *Service) Delete(ctx context.Context, keyID, id string) error {
	g, err := s.Get(ctx, keyID, id)
	if err != nil {
		return err
	}
	if !g.Status.Terminal() {
		if _, err := s.Cancel(ctx, keyID, id); err != nil && fault.KindOf(err) != fault.Conflict {
			return err
		}
		if g, err = s.Store.Get(ctx, id); err != nil {
			return err
		}
	}
	if err := s.Store.Delete(ctx, id); err != nil {
		if fault.KindOf(err) == fault.Conflict {
			return fault.Errorf(fault.NotFound, "Generation %q not found", fault.Echo(id))
		}
		return err
	}
	if g.Video != nil && s.Blobs != nil {
		if err := s.Blobs.Delete(ctx, g.Video.Key); err != nil {
			s.log().Warn("removing the file of a deleted generation", "id", id, "key", g.Video.Key, "err", err)
		}
	}
	for _, field := range URLFields {
		s.forget(ctx, g.Request.URL(field))
	}
	s.log().Info("generation deleted", "id", id, "key", keyID)
	return nil
}

// CountPoll counts a poll of the test generation g and returns which poll
// it is, 1 for the first.
func (s *Service) CountPoll(ctx context.Context, g *Generation) (int, error) {
	return s.Store.CountPoll(ctx, g.ID)
}

// QueuePosition returns a queued generation's place in its engine's queue,
// from 1 for the next to start; 0 when it is not queued.
func (s *Service) QueuePosition(ctx context.Context, g *Generation) (int, error) {
	if g.Status != Queued {
		return 0, nil
	}
	return s.Store.QueuePosition(ctx, g.ID)
}

// VideoURL returns a fresh signed download URL for a completed generation.
func (s *Service) VideoURL(ctx context.Context, g *Generation) (string, error) {
	if g.Video == nil {
		return "", fault.E(fault.Internal, "generation has no video")
	}
	return s.Blobs.URL(ctx, g.Video.Key, g.Video.FileName)
}

// Cancel cancels generation id for the key keyID and returns it, ended in
// error with error.name "cancelled" and its credits refunded. A queued
// generation never starts; a running one stops on whichever worker holds
// it. Any other key gets a fault.NotFound error, as for Get; a generation
// that has already ended gets a fault.Conflict error that says how it ended.
func (s *Service) Cancel(ctx context.Context, keyID, id string) (*Generation, error) {
	g, err := s.Get(ctx, keyID, id)
	if err != nil {
		return nil, err
	}
	if !g.Status.Terminal() {
		f := &Failure{Name: fault.Cancelled.String(), Message: "The generation was cancelled at the client's request"}
		err = s.Store.Cancel(ctx, id, f)
		if err == nil {
			s.failed(f.Name)
			s.log().Info("generation cancelled", "id", id, "key", keyID, "was", g.Status)
			return s.Store.Get(ctx, id)
		}
		if fault.KindOf(err) != fault.Conflict {
			return nil, err
		}
		// It ended meanwhile: say how.
		if g, err = s.Store.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	const only = "only queued or generating generations can be cancelled"
	switch {
	case g.Status == Completed:
		return nil, fault.Errorf(fault.Conflict, "Generation %s has already completed; %s", id, only)
	case g.Failure != nil && g.Failure.Name == fault.Cancelled.String():
		return nil, fault.Errorf(fault.Conflict, "Generation %s has already been cancelled; %s", id, only)
	}
	return nil, fault.Errorf(fault.Conflict, "Generation %s has already ended in error; %s", id, only)
}

// permanent reports whether a failure of kind k would fail again on retry.
func permanent(k fault.Kind) bool {
	switch k {
	case fault.Internal, fault.Render, fault.Timeout, fault.Unavailable:
		// Upstream is not here: a remote engine has already retried
		// within its attempt, as its entry allows.
		return false
	}
	return true
}

// Attempt is one try at rendering a generation, as a queue hands it out.
type Attempt struct {
	GenerationID string
	Number       int // 1 on the first try
	Max          int // the tries a generation gets
}

// Last reports whether a failure of this attempt ends the generation.
func (a Attempt) Last() bool { return a.Number >= a.Max }

// The outcomes of Run besides nil (the generation has ended) and an error
// to retry.
var (
	// ErrRequeue asks for the attempt to be run again later, by any
	// worker, without counting it (the process is stopping).
	ErrRequeue = errors.New("requeue")
	// ErrCancelled says the generation was cancelled under the attempt:
	// it never runs again. It is also the cause of a render's context
	// when the client cancelled the generation (see Cancelled).
	ErrCancelled = errors.New("generation cancelled")
)

// Cancelled reports whether ctx, a render's context, ended because the
// generation ends with this attempt: the client cancelled it, or the
// server stopped it when its disk went below the free-space floor. A
// remote engine then cancels its job upstream; when ctx ends for any other
// reason (the process is stopping, the attempt ran out of time) the job is
// left running for the next attempt to resume from the saved state.
func Cancelled(ctx context.Context) bool {
	cause := context.Cause(ctx)
	return errors.Is(cause, ErrCancelled) || fault.KindOf(cause) == fault.StorageFull
}

// Run renders generation a.GenerationID with its engine. It returns nil
// when the generation has ended (either way), ErrCancelled when it was
// cancelled under it, ErrRequeue when ctx was cancelled under it (the
// process is stopping) or the database could not be reached, and an error
// to have the attempt retried.
func (s *Service) Run(ctx context.Context, a Attempt) error {
	err := s.run(ctx, a)
	switch {
	case errors.Is(err, ErrCancelled):
		s.log().Info("render stopped: the generation was cancelled", "id", a.GenerationID)
		return ErrCancelled
	case err != nil && stopped(ctx):
		s.log().Info("render interrupted; requeued", "id", a.GenerationID, "err", err)
		return ErrRequeue
	case errors.Is(err, errDatabaseAway):
		// Not the generation's fault: the attempt is not spent, so that an
		// outage on its last attempt does not fail it.
		s.log().Warn("the database is unavailable; render requeued", "id", a.GenerationID, "err", err)
		return ErrRequeue
	}
	return err
}

// errDatabaseAway marks a store error that says the database cannot be
// reached (fault.Unavailable).
var errDatabaseAway = errors.New("the database is unavailable")

// databaseAway marks err with errDatabaseAway if it is the store's
// fault.Unavailable error.
func databaseAway(err error) error {
	if fault.KindOf(err) == fault.Unavailable {
		return fmt.Errorf("%w: %w", errDatabaseAway, err)
	}
	return err
}

// finishPatience is how long the end of an attempt waits for the database
// to come back before it gives up, to be run again (rendering again).
const finishPatience = 5 * time.Minute

// finish is Store.Finish, tried again while the database cannot be
// reached: a render that ends during a database outage is recorded when
// the database is back, neither lost nor failed. It stops trying when the
// process stops or after finishPatience, and its error is then marked
// with errDatabaseAway.
func (s *Service) finish(ctx context.Context, id string, v *Video, f *Failure) error {
	wait := 100 * time.Millisecond
	for start := time.Now(); ; {
		err := s.Store.Finish(context.WithoutCancel(ctx), id, v, f)
		if fault.KindOf(err) != fault.Unavailable {
			return err
		}
		if stopped(ctx) || time.Since(start) > finishPatience {
			return databaseAway(err)
		}
		if wait == 100*time.Millisecond {
			s.log().Warn("the database is unavailable; ending the generation when it is back", "id", id, "err", err)
		}
		time.Sleep(wait)
		wait = min(2*wait, 2*time.Second)
	}
}

// stopped reports whether ctx was cancelled by the process stopping, as
// opposed to timing out.
func stopped(ctx context.Context) bool {
	return ctx.Err() != nil && !errors.Is(context.Cause(ctx), context.DeadlineExceeded)
}

func (s *Service) heartbeat() time.Duration {
	if s.Heartbeat > 0 {
		return s.Heartbeat
	}
	return 500 * time.Millisecond
}

// beat records the progress of a running render every Heartbeat until ctx
// ends. When the generation has ended meanwhile (it was cancelled), it
// cancels the render with ErrCancelled. While rendering holds true, it also
// checks Preflight: when the disk has gone below the free-space floor, it
// cancels the render with Preflight's fault.StorageFull error, which ends
// the generation as storage_full instead of a render that fills the disk
// and fails.
func (s *Service) beat(ctx context.Context, id string, progress *atomic.Uint64, rendering *atomic.Bool, cancel context.CancelCauseFunc) {
	t := time.NewTicker(s.heartbeat())
	defer t.Stop()
	failing := false // logged once until progress is recorded again
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := s.Store.Progress(ctx, id, math.Float64frombits(progress.Load()), "")
		if fault.KindOf(err) == fault.Conflict {
			cancel(ErrCancelled)
			return
		}
		switch {
		case err != nil && ctx.Err() == nil && !failing:
			s.log().Warn("recording progress failed; the render goes on", "id", id, "err", err)
			failing = true
		case err == nil && failing:
			s.log().Info("recording progress again", "id", id)
			failing = false
		}
		if s.Preflight != nil && rendering.Load() {
			if perr := s.Preflight(); fault.KindOf(perr) == fault.StorageFull {
				cancel(perr)
				return
			}
		}
	}
}

// endedMeanwhile reports whether the render under rctx was stopped because
// generation id ended (it was cancelled) rather than by ctx.
func (s *Service) endedMeanwhile(ctx context.Context, rctx context.Context, id string) bool {
	if errors.Is(context.Cause(rctx), ErrCancelled) {
		return true
	}
	if rctx.Err() == nil {
		return false
	}
	g, err := s.Store.Get(context.WithoutCancel(ctx), id)
	return err == nil && g.Status.Terminal()
}

// renderContext returns the context a render of generation id runs
// under. It is cancelled with ErrCancelled when the generation is
// cancelled, whoever notices first (the heartbeat, or the queue cancelling
// the job's ctx), so that engines can tell a client's cancel (stop the
// remote job too) from the process stopping (leave it for the next
// attempt); otherwise it ends with ctx, keeping ctx's deadline and cause.
func (s *Service) renderContext(ctx context.Context, id string) (context.Context, context.CancelCauseFunc) {
	base := context.WithoutCancel(ctx)
	var cancelDeadline context.CancelFunc = func() {}
	if d, ok := ctx.Deadline(); ok {
		base, cancelDeadline = context.WithDeadline(base, d)
	}
	rctx, cancel := context.WithCancelCause(base)
	stop := context.AfterFunc(ctx, func() {
		cause := context.Cause(ctx)
		if errors.Is(cause, context.DeadlineExceeded) {
			// base ends at the same deadline on its own, so that rctx.Err()
			// says DeadlineExceeded: cancelling with a cause would make it
			// say Canceled, and engines would report a cancel.
			return
		}
		gctx, done := context.WithTimeout(base, 5*time.Second)
		if g, err := s.Store.Get(gctx, id); err == nil && g.Status.Terminal() {
			cause = ErrCancelled
		}
		done()
		cancel(cause)
	})
	return rctx, func(cause error) {
		stop()
		cancel(cause)
		cancelDeadline()
	}
}

func (s *Service) run(ctx context.Context, job Attempt) error {
	id := job.GenerationID
	g, err := s.Store.Get(ctx, id)
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			s.log().Error("render job for a missing generation", "id", id)
			return nil
		}
		return databaseAway(err)
	}
	if g.Status.Terminal() {
		// Already rendered (or failed, or cancelled) by an earlier
		// attempt: never twice.
		return nil
	}
	log := s.log().With("id", id, "attempt", job.Number, "engine", g.Engine)
	eng, ok := s.Engines[g.Engine]
	if !ok {
		// A generation routed by another process's engines file: fail it
		// rather than retry what no worker here can render.
		log.Error("no such engine here; check that every process has the same engines file")
		f := &Failure{Name: fault.Render.String(), Message: fmt.Sprintf("The engine %q of this generation is not configured on the worker that took it; the generation was not charged", g.Engine)}
		err := s.finish(ctx, id, nil, f)
		if err == nil {
			s.failed(f.Name)
		}
		return s.ended(err)
	}
	if s.Preflight != nil {
		if perr := s.Preflight(); perr != nil {
			log.Error("not rendering", "err", perr)
			f := &Failure{Name: fault.KindOf(perr).String(), Message: fault.MessageOf(perr) + "; the generation was not charged"}
			err := s.finish(ctx, id, nil, f)
			if err == nil {
				s.failed(f.Name)
			}
			return s.ended(err)
		}
	}
	if err := s.Store.Progress(ctx, id, 0, ""); err != nil {
		return databaseAway(s.ended(err))
	}
	dir := s.tempDir()
	// Unique: after a rescue, one process may render a generation twice.
	out := filepath.Join(dir, id+"-"+NewID()[:8]+".mp4")
	defer os.Remove(out)

	rctx, cancel := s.renderContext(ctx, id)
	var progress atomic.Uint64
	var rendering atomic.Bool // not while storing: that needs no room here
	rendering.Store(true)
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		s.beat(rctx, id, &progress, &rendering, cancel)
	}()
	defer func() {
		cancel(nil)
		<-beating
	}()

	start := time.Now()
	task := &Task{
		ID: id, Request: &g.Request, Out: out, State: g.EngineState, Script: g.Script,
		Progress: func(p float64) { progress.Store(math.Float64bits(p)) },
		Save:     func(ctx context.Context, state string) error { return s.Store.SaveState(ctx, id, state) },
	}
	if s.Inputs != nil {
		task.Inputs = map[string]Input{}
		for _, field := range URLFields {
			if g.Request.URL(field) != "" {
				task.Inputs[field] = s.Inputs.Input(&g.Request, field)
			}
		}
	}
	o, err := eng.Render(rctx, task)
	rendering.Store(false)
	if err != nil {
		kind := fault.KindOf(err)
		cause := context.Cause(rctx)
		switch {
		case kind == fault.Cancelled && errors.Is(cause, context.DeadlineExceeded):
			// The attempt ran out of time; an engine that read ctx.Err()
			// may call that a cancel.
			kind, err = fault.Timeout, fault.Wrap(fault.Timeout, "the generation ran out of time", err)
		case fault.KindOf(cause) == fault.StorageFull:
			// The heartbeat stopped the render: the disk went below the
			// floor. Whatever the engine made of its cancelled context,
			// that ends the generation, refunded.
			kind, err = fault.StorageFull, fault.Wrap(fault.StorageFull, fault.MessageOf(cause)+"; the generation was not charged", err)
		}
		if s.endedMeanwhile(ctx, rctx, id) {
			return ErrCancelled
		}
		if stopped(ctx) {
			return err
		}
		if !permanent(kind) && !job.Last() && g.Engine != ScriptedEngine {
			log.Warn("render failed; will retry", "err", err)
			return err
		}
		log.Info("generation failed", "name", kind.String(), "err", err)
		f := &Failure{Name: kind.String(), Message: fault.MessageOf(err)}
		err = s.finish(ctx, id, nil, f)
		if err == nil {
			s.failed(f.Name)
		}
		return s.ended(err)
	}
	key := id + "/output.mp4"
	size, err := s.Blobs.Put(rctx, key, out)
	if err != nil {
		if s.endedMeanwhile(ctx, rctx, id) {
			return ErrCancelled
		}
		return fmt.Errorf("storing %s: %w", key, err)
	}
	if o.Plan != "" {
		_ = s.Store.Progress(ctx, id, 1, o.Plan)
	}
	v := &Video{
		Key: key, FileName: "output.mp4", Size: size,
		Width: o.Width, Height: o.Height, Duration: o.Duration, FPS: o.FPS,
		HasAudio: o.HasAudio, Warnings: append(slices.Clip(g.Request.Warnings), o.Warnings...),
	}
	err = s.finish(ctx, id, v, nil)
	if fault.KindOf(err) == fault.Conflict {
		// Cancelled at the last moment, or completed by another attempt
		// (whose file is this same key): only a failed generation's file
		// is garbage.
		if g, gerr := s.Store.Get(context.WithoutCancel(ctx), id); gerr == nil && g.Status == Failed {
			if derr := s.Blobs.Delete(context.WithoutCancel(ctx), key); derr != nil {
				log.Warn("removing the file of a cancelled generation", "key", key, "err", derr)
			}
			return ErrCancelled
		}
		return nil
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if s.Observer != nil {
		s.Observer.Rendered(&g.Request, o, elapsed)
	}
	log.Info("generation completed", "elapsed", elapsed.Round(time.Millisecond), "bytes", size,
		"resolution", g.Request.Resolution, "speech_ms", o.Timings.Speech.Milliseconds(), "encode_ms", o.Timings.Encode.Milliseconds())
	return nil
}

// ended treats a Conflict (the generation ended meanwhile, e.g. cancelled)
// as done.
func (s *Service) ended(err error) error {
	if fault.KindOf(err) == fault.Conflict {
		return nil
	}
	return err
}
