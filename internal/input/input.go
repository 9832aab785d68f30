// Package input keeps the files clients send inline (data: URIs in any URL
// field, and the files uploaded to the OpenAI-compatible route) in blob
// storage from the moment a generation is submitted, so that the
// generation's row holds a short reference instead of megabytes of base64:
// polls, lists, events and webhooks never carry the file again. It also
// gives engines a request's inputs, kept or at the client's URL, as bytes
// or as a URL a remote engine can fetch.
package input

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
)

// scheme starts a reference to a kept file in a request's URL field.
const scheme = "stored:"

// The byte limits of the files a request names, besides images (whose
// limit is the intake options'): a lip-sync's video and its audio.
const (
	MaxVideoBytes = 100 << 20
	MaxAudioBytes = 25 << 20
)

// FetchTimeout bounds fetching a video or audio file: 100 MB in a minute
// needs about 14 Mbit/s (an image's fetch has the intake's 10 s).
const FetchTimeout = time.Minute

// Files keeps and reads a request's input files.
type Files struct {
	Blobs generation.Blobs
	// Intake bounds reading the clients' files; its MaxBytes is the
	// images' limit.
	Intake intake.Options
	// TempDir holds a file on its way into storage. Defaults to
	// os.TempDir().
	TempDir string
}

// Kept reports whether a URL field's value is a reference to a kept file.
func Kept(u string) bool { return strings.HasPrefix(u, scheme) }

// Options returns the intake options for reading the file of a URL field:
// base (whose MaxBytes is the images' limit) with the field's name and
// byte limit.
func Options(base intake.Options, field string) intake.Options {
	o := base
	o.Field = field
	switch field {
	case generation.FieldVideo:
		o.MaxBytes, o.Timeout = MaxVideoBytes, max(o.Timeout, FetchTimeout)
	case generation.FieldAudio:
		o.MaxBytes, o.Timeout = MaxAudioBytes, max(o.Timeout, FetchTimeout)
	}
	return o
}

func (m *Files) options(field string) intake.Options { return Options(m.Intake, field) }

// names are the kept files' names, by URL field.
var names = map[string]string{generation.FieldImage: "input", generation.FieldTailImage: "tail",
	generation.FieldVideo: "video", generation.FieldAudio: "audio"}

// Check validates the value of a URL field at submit, without network
// I/O, under the field's limits (see intake.Check).
func (m *Files) Check(field, src string) error { return intake.Check(src, m.options(field)) }

// Keep stores the file of a data: URI in the URL field for generation id
// and returns the reference that replaces the URI in the request. Any other
// URL is returned as it is.
func (m *Files) Keep(ctx context.Context, id, field, u string) (string, error) {
	if !intake.IsDataURI(u) {
		return u, nil
	}
	b, err := intake.Read(ctx, u, m.options(field))
	if err != nil {
		return "", err
	}
	ext, err := Extension(field, b)
	if err != nil {
		return "", &fault.Error{Kind: fault.Invalid, Message: "Body validation error!", Err: err,
			Fields: []fault.FieldError{{Field: field, Message: fault.MessageOf(err)}}}
	}
	dir := m.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "input-*"+ext)
	if err != nil {
		return "", fault.Wrap(fault.Internal, "storing the "+field+" file", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	key := id + "/" + names[field] + ext
	if err == nil {
		_, err = m.Blobs.Put(ctx, key, f.Name())
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fault.Wrap(fault.Internal, "storing the "+field+" file", err)
	}
	return scheme + key, nil
}

// Forget removes the file kept under ref, if ref is a reference.
func (m *Files) Forget(ctx context.Context, ref string) error {
	if !Kept(ref) {
		return nil
	}
	return m.Blobs.Delete(ctx, strings.TrimPrefix(ref, scheme))
}

// Input returns the input that req's URL field names, for its engine.
func (m *Files) Input(req *generation.Request, field string) generation.Input {
	return &file{m: m, field: field, src: req.URL(field)}
}

type file struct {
	m     *Files
	field string
	src   string
}

// maxKept bounds reading a kept file back (it passed the limits on the way
// in).
const maxKept = MaxVideoBytes

func (i *file) Bytes(ctx context.Context) ([]byte, error) {
	if !Kept(i.src) {
		return intake.Read(ctx, i.src, i.m.options(i.field))
	}
	r, err := i.m.Blobs.Open(ctx, strings.TrimPrefix(i.src, scheme))
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return nil, fault.Errorf(fault.ImageFetch, "the generation's %s file is no longer stored; submit it again", i.field)
		}
		return nil, fault.Wrap(fault.Internal, "reading the stored "+i.field+" file", err)
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(r, maxKept)); err != nil {
		return nil, fault.Wrap(fault.Internal, "reading the stored "+i.field+" file", err)
	}
	return b.Bytes(), nil
}

func (i *file) URL(ctx context.Context) (string, error) {
	switch {
	case Kept(i.src):
		key := strings.TrimPrefix(i.src, scheme)
		return i.m.Blobs.URL(ctx, key, filepath.Base(key))
	case intake.IsDataURI(i.src):
		return "", nil
	}
	return i.src, nil
}
