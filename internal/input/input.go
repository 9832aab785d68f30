// Package input keeps the images clients send inline (data: URIs, and the
// files uploaded to the OpenAI-compatible route) in blob storage from the
// moment a generation is submitted, so that the generation's row holds a
// short reference instead of megabytes of base64: polls, lists, events and
// webhooks never carry the image again. It also gives engines a request's
// image, kept or at the client's URL, as bytes or as a URL a remote engine
// can fetch.
package input

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"stillmotion/internal/fault"
	"stillmotion/internal/generation"
	"stillmotion/internal/intake"
)

// scheme starts a reference to a kept image in a request's image_url.
const scheme = "stored:"

// Images keeps and reads input images.
type Images struct {
	Blobs generation.Blobs
	// Intake bounds reading the clients' images.
	Intake intake.Options
	// TempDir holds an image on its way into storage. Defaults to
	// os.TempDir().
	TempDir string
}

// Kept reports whether image_url is a reference to a kept image.
func Kept(imageURL string) bool { return strings.HasPrefix(imageURL, scheme) }

// Keep stores the image of a data: URI for generation id and returns the
// reference that replaces the URI in the request. Any other image_url is
// returned as it is.
func (m *Images) Keep(ctx context.Context, id, imageURL string) (string, error) {
	if !intake.IsDataURI(imageURL) {
		return imageURL, nil
	}
	b, err := intake.Read(ctx, imageURL, m.Intake)
	if err != nil {
		return "", err
	}
	ext := intake.Extension(b)
	if ext == "" {
		return "", fault.E(fault.ImageInvalid, "image_url holds no JPEG, PNG, WebP or GIF image")
	}
	dir := m.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	f, err := os.CreateTemp(dir, "input-*"+ext)
	if err != nil {
		return "", fault.Wrap(fault.Internal, "storing the image", err)
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	key := id + "/input" + ext
	if err == nil {
		_, err = m.Blobs.Put(ctx, key, f.Name())
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fault.Wrap(fault.Internal, "storing the image", err)
	}
	return scheme + key, nil
}

// Forget removes the image kept under ref, if ref is a reference.
func (m *Images) Forget(ctx context.Context, ref string) error {
	if !Kept(ref) {
		return nil
	}
	return m.Blobs.Delete(ctx, strings.TrimPrefix(ref, scheme))
}

// Image returns the image req names, for its engine.
func (m *Images) Image(req *generation.Request) generation.Image {
	return &image{m: m, src: req.ImageURL}
}

type image struct {
	m   *Images
	src string
}

// maxKept bounds reading a kept image back (it passed intake's limits on
// the way in).
const maxKept = 64 << 20

func (i *image) Bytes(ctx context.Context) ([]byte, error) {
	if !Kept(i.src) {
		return intake.Read(ctx, i.src, i.m.Intake)
	}
	r, err := i.m.Blobs.Open(ctx, strings.TrimPrefix(i.src, scheme))
	if err != nil {
		if fault.KindOf(err) == fault.NotFound {
			return nil, fault.E(fault.ImageFetch, "the generation's image is no longer stored; submit it again")
		}
		return nil, fault.Wrap(fault.Internal, "reading the stored image", err)
	}
	defer r.Close()
	var b bytes.Buffer
	if _, err := io.Copy(&b, io.LimitReader(r, maxKept)); err != nil {
		return nil, fault.Wrap(fault.Internal, "reading the stored image", err)
	}
	return b.Bytes(), nil
}

func (i *image) URL(ctx context.Context) (string, error) {
	switch {
	case Kept(i.src):
		key := strings.TrimPrefix(i.src, scheme)
		return i.m.Blobs.URL(ctx, key, filepath.Base(key))
	case intake.IsDataURI(i.src):
		return "", nil
	}
	return i.src, nil
}
