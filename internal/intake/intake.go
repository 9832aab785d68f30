// Package intake turns a request's image_url into a decoded image, safely:
// it fetches http(s) URLs without reaching private networks, decodes
// data: URIs, bounds bytes, pixels, redirects and time, sniffs the format
// from the content, and applies JPEG EXIF orientation.
//
// Load returns an *image.RGBA whose bounds start at the origin.
package intake

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"stillmotion/internal/bytesize"
	"stillmotion/internal/fault"
)

// The defaults for the zero values of Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultMaxBytes     = 20 << 20
	DefaultMaxRedirects = 3
	DefaultMaxPixels    = 40_000_000
)

// maxURLLength bounds an http(s) image_url; data: URIs are bounded by
// MaxBytes instead.
const maxURLLength = 8 << 10

// allowed ends the messages about a malformed image_url.
const allowed = "it must be an http(s) URL or a data:image/...;base64, URI"

// Options bound what Load will do. Zero values mean the defaults.
type Options struct {
	// AllowPrivate lets URLs reach loopback, private, link-local and
	// multicast addresses (see IsForbiddenIP). Default false.
	AllowPrivate bool
	// Timeout bounds the whole fetch: connecting, redirects and the body.
	// Default 10s.
	Timeout time.Duration
	// MaxBytes caps the fetched body or the decoded data: URI. Default 20 MiB.
	MaxBytes int64
	// MaxRedirects caps the redirects followed; negative means none.
	// Default 3.
	MaxRedirects int
	// MaxPixels caps width*height, checked from the image header before
	// decoding. Default 40,000,000.
	MaxPixels int
	// Field is the request field being read, for messages and for the
	// media type a data: URI must declare: image_url (the default) and
	// tail_image_url take data:image/..., video_url data:video/...,
	// audio_url data:audio/....
	Field string
	// Client, if set, replaces the client Load builds, and with it the
	// address, scheme and redirect rules; it is for tests. Timeout and
	// MaxBytes still apply.
	Client *http.Client

	// denyAddr, if set, replaces the address policy: it returns why an
	// address may not be dialled, or "" to allow it. Tests use it to let the
	// first hop reach a loopback test server but refuse where it redirects.
	denyAddr func(netip.AddrPort) string
}

func (o Options) withDefaults() Options {
	if o.Field == "" {
		o.Field = "image_url"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	switch {
	case o.MaxRedirects == 0:
		o.MaxRedirects = DefaultMaxRedirects
	case o.MaxRedirects < 0:
		o.MaxRedirects = 0
	}
	if o.MaxPixels <= 0 {
		o.MaxPixels = DefaultMaxPixels
	}
	return o
}

// policy returns the address policy Load enforces at connect time, or nil
// when every address is allowed.
func (o Options) policy() func(netip.AddrPort) string {
	switch {
	case o.denyAddr != nil:
		return o.denyAddr
	case o.AllowPrivate:
		return nil
	}
	return func(ap netip.AddrPort) string { return forbiddenReason(ap.Addr()) }
}

// Check validates src at submit time without network I/O: it must be an
// http(s) URL with a host, or a data:image/...;base64, URI. A data: URI is
// decoded and its image header checked (format sniffed from the bytes,
// dimensions, pixel cap). Unless opt.AllowPrivate is set, a URL whose host
// is a forbidden IP literal or localhost is refused; Load still checks
// every address it connects to. Errors are *fault.Error of kind Invalid,
// ImageForbidden, ImageTooLarge or ImageInvalid.
func Check(src string, opt Options) error {
	opt = opt.withDefaults()
	field := opt.Field
	if isDataURI(src) {
		b, err := parseDataURI(src, opt.MaxBytes, field)
		if err != nil {
			return err
		}
		if media(field) != "image" {
			return nil // ffmpeg reads it, under the engine's limits
		}
		if _, _, err := decodeConfig(b, opt); err != nil {
			return err
		}
		return nil
	}
	u, err := parseURL(src, field)
	if err != nil {
		return err
	}
	if opt.AllowPrivate {
		return nil
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if ip, err := netip.ParseAddr(host); err == nil {
		if r := forbiddenReason(ip); r != "" {
			return forbidden(field + " points at " + ip.String() + ", " + r)
		}
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		// RFC 6761 reserves these names for loopback.
		return forbidden(field + " points at " + host + ", a loopback address")
	}
	return nil
}

// Load fetches src, an http(s) URL, or decodes src, a data: URI, and
// decodes the image it holds. The format (JPEG, PNG, WebP or GIF) is sniffed
// from the content, never taken from a Content-Type or extension; of a GIF,
// the first frame is returned, placed on the GIF's logical screen. A JPEG's
// EXIF orientation is applied, so the image is upright.
//
// The image is an *image.RGBA (alpha-premultiplied, 8 bits per channel)
// whose bounds start at the origin.
//
// Every address Load connects to, including after redirects and for every
// address a name resolves to, is checked with IsForbiddenIP unless
// opt.AllowPrivate is set. Errors are *fault.Error of kinds Invalid,
// ImageFetch, ImageForbidden, ImageTooLarge and ImageInvalid, or Cancelled
// and Timeout (wrapping ctx.Err()) when ctx ends first.
func Load(ctx context.Context, src string, opt Options) (image.Image, error) {
	b, err := Read(ctx, src, opt)
	if err != nil {
		return nil, err
	}
	return Decode(ctx, b, opt)
}

// Read returns the bytes of the image file src names: an http(s) URL,
// fetched under Load's address rules, or a data: URI. Errors are as Load's.
func Read(ctx context.Context, src string, opt Options) ([]byte, error) {
	opt = opt.withDefaults()
	if isDataURI(src) {
		return parseDataURI(src, opt.MaxBytes, opt.Field)
	}
	u, err := parseURL(src, opt.Field)
	if err != nil {
		return nil, err
	}
	return fetch(ctx, u, opt)
}

// Decode decodes an image file's bytes as Load does.
func Decode(ctx context.Context, b []byte, opt Options) (image.Image, error) {
	m, err := decode(ctx, b, opt.withDefaults())
	if err != nil {
		return nil, err
	}
	return m, nil
}

// IsDataURI reports whether src is a data: URI (an image sent inline).
func IsDataURI(src string) bool { return isDataURI(src) }

// parseURL parses src as an absolute http(s) URL with a host.
func parseURL(src, field string) (*url.URL, error) {
	switch {
	case strings.TrimSpace(src) == "":
		return nil, invalidField(field, field+" is empty; "+allowed)
	case len(src) > maxURLLength:
		return nil, invalidField(field, fmt.Sprintf("%s is longer than %d characters; %s", field, maxURLLength, allowed))
	}
	u, err := url.Parse(src)
	switch {
	case err != nil:
		return nil, invalidField(field, field+" is not a valid URL; "+allowed)
	case u.Scheme == "":
		return nil, invalidField(field, field+" is not an absolute URL; "+allowed)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, invalidField(field, fmt.Sprintf("%s has the scheme %q; %s", field, u.Scheme, allowed))
	case u.Opaque != "" || u.Hostname() == "":
		return nil, invalidField(field, field+" has no host; "+allowed)
	}
	return u, nil
}

// isDataURI reports whether src uses the data: scheme.
func isDataURI(src string) bool {
	return len(src) >= 5 && strings.EqualFold(src[:5], "data:")
}

// media returns the top-level media type of the files field holds.
func media(field string) string {
	switch field {
	case "video_url":
		return "video"
	case "audio_url":
		return "audio"
	}
	return "image"
}

// parseDataURI decodes a data:<media>/<type>[;param...];base64,<data> URI,
// whose media (image, video, audio) is the one field holds.
// The payload may use the standard or the URL-safe base64 alphabet, with or
// without padding; it may not contain spaces. The declared image type is
// not trusted: decode sniffs the bytes.
func parseDataURI(src string, maxBytes int64, field string) ([]byte, error) {
	kind := media(field)
	shape := "it must look like data:" + map[string]string{"image": "image/png", "video": "video/mp4", "audio": "audio/mpeg"}[kind] + ";base64,<base64 data>"
	meta, payload, ok := strings.Cut(src[len("data:"):], ",")
	if !ok {
		return nil, invalidField(field, field+" is a data: URI without a comma; "+shape)
	}
	params := strings.Split(meta, ";")
	mt := strings.ToLower(strings.TrimSpace(params[0]))
	if sub, ok := strings.CutPrefix(mt, kind+"/"); (!ok || sub == "") && !(kind == "audio" && mt == "application/ogg") {
		if mt == "" {
			mt = "text/plain" // the data: default
		}
		return nil, invalidField(field, fmt.Sprintf("%s is a data: URI of type %q; only data:%s/...;base64, URIs are accepted", field, mt, kind))
	}
	if len(params) < 2 || !strings.EqualFold(strings.TrimSpace(params[len(params)-1]), "base64") {
		return nil, invalidField(field, field+" is a data: URI that is not base64-encoded; "+shape)
	}
	payload = strings.TrimRight(payload, "=")
	if payload == "" {
		return nil, invalidField(field, field+" is a data: URI with no data; "+shape)
	}
	enc := base64.RawStdEncoding
	if strings.ContainsAny(payload, "-_") {
		enc = base64.RawURLEncoding
	}
	if int64(enc.DecodedLen(len(payload))) > maxBytes {
		return nil, tooLarge(maxBytes)
	}
	b, err := enc.DecodeString(payload)
	if err != nil {
		msg := field + " is a data: URI whose base64 data is invalid"
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			msg += fmt.Sprintf(" at character %d", int64(ce)+1)
		}
		e := invalidField(field, msg+"; use the standard or URL-safe base64 alphabet, without spaces")
		e.Err = err
		return nil, e
	}
	return b, nil
}

// invalidField returns an Invalid error about the field.
func invalidField(field, msg string) *fault.Error {
	e := fault.E(fault.Invalid, msg)
	e.Fields = []fault.FieldError{{Field: "image_url", Message: msg}}
	return e
}

// forbidden returns an ImageForbidden error that starts with what, says
// which addresses are refused and how to allow them.
func forbidden(what string) *fault.Error {
	return fault.E(fault.ImageForbidden, what+"; stillmotion does not fetch private, loopback, "+
		"link-local or multicast addresses (set STILLMOTION_ALLOW_PRIVATE_FETCH=1 to allow)")
}

// tooLarge returns the ImageTooLarge error for content over max bytes.
func tooLarge(max int64) *fault.Error {
	return fault.Errorf(fault.ImageTooLarge, "image is larger than the %s limit", bytesize.Format(max))
}

// ctxFault describes the end of the caller's context.
func ctxFault(err error, field string) *fault.Error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "loading "+field+" ran out of time", err)
	}
	return fault.Wrap(fault.Cancelled, "loading "+field+" was cancelled", err)
}
