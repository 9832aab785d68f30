// Package auth holds API keys: how they are made, how they are stored (only
// as hashes) and how a bearer token becomes a Key.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"time"

	"stillmotion/internal/fault"
)

// Key is an API key's record. The key itself is never stored.
type Key struct {
	ID      string
	Name    string
	Hash    string // hex SHA-256 of the key
	Credits int64  // balance; meaningless when Unlimited
	// Unlimited keys are never debited: the bootstrap keys from
	// STILLMOTION_API_KEYS and keys created without a credit balance.
	Unlimited bool
	// Test keys run in test mode: their generations are free, marked
	// "test" on reads, kept apart from real ones, and may be scripted.
	Test bool
	// Worker tokens are not API keys: they may only take render work
	// from Queues, as remote workers do.
	Worker  bool
	Queues  []string
	Created time.Time
	Revoked *time.Time
}

// Store persists keys.
type Store interface {
	// CreateKey stores k. It returns a fault.Conflict error if a live key
	// has the same name.
	CreateKey(ctx context.Context, k *Key) error
	// KeyByHash returns the live (unrevoked) key with the given hash, or a
	// fault.NotFound error.
	KeyByHash(ctx context.Context, hash string) (*Key, error)
	// Keys lists all keys, revoked ones included, oldest first.
	Keys(ctx context.Context) ([]*Key, error)
	// RevokeKey revokes the live key whose ID or name is idOrName, or returns
	// a fault.NotFound error.
	RevokeKey(ctx context.Context, idOrName string) error
}

// keyPrefix marks stillmotion keys so they are recognisable in logs and
// secret scanners.
const keyPrefix = "sm_"

// NewSecret returns a new random API key: "sm_" and 32 base62 characters
// (190 bits).
func NewSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [32]byte
	out := make([]byte, 0, len(keyPrefix)+len(b))
	out = append(out, keyPrefix...)
	for len(out) < cap(out) {
		rand.Read(b[:])
		for _, c := range b {
			// Rejection sampling keeps the choice uniform: 248 = 4*62.
			if c < 248 && len(out) < cap(out) {
				out = append(out, alphabet[c%62])
			}
		}
	}
	return string(out)
}

// Hash returns the stored form of a key. Keys are long random strings, so a
// fast hash is enough: there is nothing to brute-force.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// VersionedStore is a Store that can tell cheaply whether anything was
// committed since it last said: Version changes whenever any process
// changes the database (ok is false if the store cannot tell).
type VersionedStore interface {
	Version(ctx context.Context) (v int64, ok bool, err error)
}

// CacheTTL bounds how long an Authenticator trusts a stored key it looked
// up: a key revoked by another process (the keys command, another server)
// stops working within this time, or at once over a VersionedStore that
// can tell (SQLite). Revoking through the Authenticator's own Revoke takes
// effect at once.
const CacheTTL = 5 * time.Second

// Authenticator turns bearer tokens into keys: the bootstrap keys given at
// start (unlimited), then the stored keys, each remembered for CacheTTL so
// that a poll does not read the database to authenticate.
type Authenticator struct {
	store     Store
	bootstrap map[string]*Key // by hash
	// AllTest makes every key a test key (the server's --test-mode).
	AllTest bool
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedKey // stored keys by hash, unknown ones too
}

// cachedKey is a stored key as looked up at some time: nil if there was
// none (so repeated bad keys do not read the database each time either).
type cachedKey struct {
	key     *Key
	expires time.Time
	version int64 // the store's, when it was looked up (VersionedStore)
}

// maxCached bounds the cache: past it, it is emptied rather than grown by
// a client sending random keys.
const maxCached = 10_000

// NewAuthenticator returns an Authenticator over store that also accepts the
// bootstrap secrets (STILLMOTION_API_KEYS) with unlimited credits, and the
// bootstrap test secrets (STILLMOTION_TEST_KEYS) as unlimited test keys.
func NewAuthenticator(store Store, bootstrap []string, testBootstrap ...string) *Authenticator {
	a := &Authenticator{store: store, bootstrap: map[string]*Key{}}
	add := func(secrets []string, test bool) {
		for _, s := range secrets {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			h := Hash(s)
			// The ID is derived from the hash so the same bootstrap key owns
			// the same generations across restarts.
			k := &Key{ID: "env_" + h[:16], Name: "bootstrap", Hash: h, Unlimited: true, Test: test}
			if test {
				k.ID, k.Name = "envtest_"+h[:16], "bootstrap-test"
			}
			a.bootstrap[h] = k
		}
	}
	add(bootstrap, false)
	add(testBootstrap, true)
	return a
}

// Authenticate returns the key for the Authorization header value header
// ("Bearer <key>"), or a fault.Unauthenticated error saying what is wrong.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (*Key, error) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" {
		return nil, fault.E(fault.Unauthenticated, "Missing API key: send it in the Authorization header as 'Bearer <key>'")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, fault.E(fault.Unauthenticated, "Malformed Authorization header: expected 'Bearer <key>'")
	}
	// A map lookup by hash leaks nothing useful through its timing: the
	// hash of a guess says nothing about the hashes of the real keys.
	h := Hash(strings.TrimSpace(secret))
	if k, ok := a.bootstrap[h]; ok {
		return a.mode(*k), nil
	}
	now := a.now()
	var version int64
	if vs, ok := a.store.(VersionedStore); ok {
		v, ok, err := vs.Version(ctx)
		if err != nil {
			return nil, err
		}
		if ok {
			version = v
		}
	}
	a.mu.Lock()
	c, ok := a.cache[h]
	a.mu.Unlock()
	// A worker token is looked up on every call: its calls are few, and a
	// revoked one must not take another job.
	if !ok || !now.Before(c.expires) || c.version != version || c.key != nil && c.key.Worker {
		k, err := a.store.KeyByHash(ctx, h)
		if err != nil && fault.KindOf(err) != fault.NotFound {
			return nil, err
		}
		c = cachedKey{key: k, expires: now.Add(CacheTTL), version: version}
		a.mu.Lock()
		if a.cache == nil || len(a.cache) >= maxCached {
			a.cache = map[string]cachedKey{}
		}
		a.cache[h] = c
		a.mu.Unlock()
	}
	if c.key == nil {
		return nil, fault.E(fault.Unauthenticated, "Invalid API key: it is unknown or revoked; create one with 'stillmotion keys create'")
	}
	return a.mode(*c.key), nil // callers get their own copy
}

// mode returns k as this Authenticator's mode makes it: under AllTest a
// real key becomes a test key with an owner id of its own, so that its
// test generations and its real ones never see each other.
func (a *Authenticator) mode(k Key) *Key {
	if a.AllTest && !k.Test {
		k.Test, k.ID = true, TestOwner(k.ID)
	}
	return &k
}

// TestOwner is the owner id of a real key's generations in test mode.
func TestOwner(keyID string) string { return "test:" + keyID }

// Revoke revokes the stored key whose ID or name is idOrName and forgets
// every key this Authenticator remembers, so that it stops working at once
// here (elsewhere, within CacheTTL).
func (a *Authenticator) Revoke(ctx context.Context, idOrName string) error {
	err := a.store.RevokeKey(ctx, idOrName)
	a.mu.Lock()
	a.cache = nil
	a.mu.Unlock()
	return err
}

func (a *Authenticator) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}
