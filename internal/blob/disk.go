// Package blob stores finished videos and hands out download URLs. Disk
// keeps files in the data directory, served by the binary itself behind
// HMAC-signed, expiring URLs; S3 keeps them in a bucket of an S3-compatible
// object store, behind presigned URLs. One test suite runs against both.
package blob

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/fault"
)

// FilesPath is the route prefix Disk serves files under.
const FilesPath = "/files/"

// contentTypes are the types files are served as, by extension: the
// video stillmotion makes, and the inputs it keeps when sent inline
// (images; a lip-sync's video and audio).
var contentTypes = map[string]string{
	".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm",
	".png": "image/png", ".jpg": "image/jpeg", ".webp": "image/webp", ".gif": "image/gif",
	".wav": "audio/wav", ".mp3": "audio/mpeg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".ogg": "audio/ogg", ".flac": "audio/flac",
}

// validKey admits the keys stillmotion makes ("<id>/output.mp4", and
// "<id>/input.png" for an image sent inline) and nothing that could climb
// out of the directory.
var validKey = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,64}\.(mp4|mov|webm|png|jpg|webp|gif|wav|mp3|m4a|aac|ogg|flac)$`)

// contentType is the type a key is served as, by its extension.
func contentType(key string) string {
	if t, ok := contentTypes[path.Ext(key)]; ok {
		return t
	}
	return "application/octet-stream"
}

// notFound is the error of Open for a key that holds nothing.
func notFound(key string) error { return fault.Errorf(fault.NotFound, "no file under %q", key) }

// Disk stores files under Dir.
type Disk struct {
	Dir string
	// BaseURL is the public base of the service ("http://127.0.0.1:8080").
	BaseURL string
	// Secret signs download URLs.
	Secret []byte
	// TTL is how long a download URL stays valid. Defaults to 7 days.
	TTL time.Duration
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

func (d *Disk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// checkKey returns an error if key is not a valid key.
func checkKey(key string) error {
	if !validKey.MatchString(key) {
		return fault.Errorf(fault.Invalid, "invalid blob key %q", key)
	}
	return nil
}

func (d *Disk) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	return filepath.Join(d.Dir, filepath.FromSlash(key)), nil
}

// Put moves the file at src into the store under key.
func (d *Disk) Put(ctx context.Context, key, src string) (int64, error) {
	dst, err := d.path(key)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return 0, err
	}
	err = os.Rename(src, dst)
	if errors.Is(err, os.ErrNotExist) {
		// Deleting the key's last sibling removed the directory meanwhile.
		if err = os.MkdirAll(filepath.Dir(dst), 0o755); err == nil {
			err = os.Rename(src, dst)
		}
	}
	if err != nil {
		// Another file system: copy to a temporary name, then rename.
		if err := copyFile(src, dst+".part"); err != nil {
			return 0, err
		}
		if err := os.Rename(dst+".part", dst); err != nil {
			return 0, err
		}
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(dst)
		return err
	}
	return out.Close()
}

// Open reads the file under key; a key that holds nothing is a
// fault.NotFound error.
func (d *Disk) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, notFound(key)
	}
	return f, err
}

// Delete removes the file under key, if any, and its directory (the
// generation's) once it is empty.
func (d *Disk) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// Fails, as it should, while the directory holds another file.
	os.Remove(filepath.Dir(p))
	return nil
}

func (d *Disk) ttl() time.Duration {
	if d.TTL > 0 {
		return d.TTL
	}
	return 7 * 24 * time.Hour
}

func (d *Disk) sign(key string, expires int64) string {
	m := hmac.New(sha256.New, d.Secret)
	m.Write(strconv.AppendInt(append([]byte(key), '\n'), expires, 10))
	var sum [sha256.Size]byte
	return base64.RawURLEncoding.EncodeToString(m.Sum(sum[:0]))
}

// URL returns a signed URL for key that expires after the TTL.
func (d *Disk) URL(ctx context.Context, key, fileName string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	exp := d.now().Add(d.ttl()).Unix()
	// The query as url.Values encodes it, keys in order; neither value
	// has a character to escape (a number, and unpadded URL-safe base64).
	return strings.TrimSuffix(d.BaseURL, "/") + FilesPath + key + "?expires=" + strconv.FormatInt(exp, 10) + "&signature=" + d.sign(key, exp), nil
}

// ServeHTTP serves a file as ServeFile does, answering its errors with
// a plain message.
func (d *Disk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := d.ServeFile(w, r); err != nil {
		code := http.StatusNotFound
		switch fault.KindOf(err) {
		case fault.Forbidden:
			code = http.StatusForbidden
		case fault.Gone:
			code = http.StatusGone
		}
		http.Error(w, fault.MessageOf(err), code)
	}
}

// ServeFile serves GET and HEAD of FilesPath+key with a valid signature,
// with Range support so players can seek. Otherwise it writes nothing and
// returns a fault.Error for the caller to answer in its own shape:
// NotFound for a key that is not one of ours, Forbidden for a bad
// signature, and Gone for a URL that has expired or whose file no longer
// exists (a valid signature proves the file was there: it was deleted with
// its generation, by its owner or at the end of the retention period).
func (d *Disk) ServeFile(w http.ResponseWriter, r *http.Request) error {
	notFound := fault.E(fault.NotFound, "File not found: use the URL from the generation's video.url")
	key := strings.TrimPrefix(r.URL.Path, FilesPath)
	p, err := d.path(key)
	if err != nil {
		return notFound
	}
	exp, err := strconv.ParseInt(r.URL.Query().Get("expires"), 10, 64)
	sig := r.URL.Query().Get("signature")
	if err != nil || !hmac.Equal([]byte(sig), []byte(d.sign(key, exp))) {
		return fault.E(fault.Forbidden, "Invalid signature: use the URL from the generation's video.url")
	}
	if d.now().Unix() > exp {
		return fault.Errorf(fault.Gone, "This download URL expired at %s: poll the generation again for a fresh video.url",
			time.Unix(exp, 0).UTC().Format(time.RFC3339))
	}
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return fault.E(fault.Gone, "This file no longer exists: it was deleted with its generation, by its owner or after the retention period (the generation's expires_at)")
	}
	if err != nil {
		return notFound
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return notFound
	}
	w.Header().Set("Content-Type", contentType(key))
	w.Header().Set("Content-Disposition", `inline; filename="`+filepath.Base(p)+`"`)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", fi.ModTime(), f)
	return nil
}

// LoadSecret returns the signing secret stored in file, creating a random
// one (mode 0600) the first time, so URLs stay valid across restarts.
func LoadSecret(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err == nil && len(b) >= 32 {
		return b, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	b = make([]byte, 32)
	rand.Read(b)
	if err := os.WriteFile(file, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}
