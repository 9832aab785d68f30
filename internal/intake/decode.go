package intake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"golang.org/x/image/webp"

	"stillmotion/internal/fault"
)

// supported ends the messages about undecodable content.
const supported = "supported formats are JPEG, PNG, WebP and GIF"

// A format is an image format Load decodes.
type format struct {
	name   string
	config func(io.Reader) (image.Config, error)
	decode func(io.Reader) (image.Image, error)
}

var (
	formatJPEG = &format{"JPEG", jpeg.DecodeConfig, jpeg.Decode}
	formatPNG  = &format{"PNG", png.DecodeConfig, png.Decode}
	formatGIF  = &format{"GIF", gif.DecodeConfig, gif.Decode} // first frame only
	formatWebP = &format{"WebP", webp.DecodeConfig, webp.Decode}
)

// sniff returns the format of b judged by its magic bytes, or nil.
func sniff(b []byte) *format {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return formatJPEG
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return formatPNG
	case bytes.HasPrefix(b, []byte("GIF87a")), bytes.HasPrefix(b, []byte("GIF89a")):
		return formatGIF
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP":
		return formatWebP
	}
	return nil
}

// unsupported describes content that is not in a supported format.
func unsupported(b []byte, field string) *fault.Error {
	if len(b) == 0 {
		return fault.E(fault.ImageInvalid, field+" is empty (0 bytes); "+supported)
	}
	ct := http.DetectContentType(b)
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	switch {
	case ct == "application/octet-stream":
		return fault.E(fault.ImageInvalid, field+" is not an image in a recognised format; "+supported)
	case strings.HasPrefix(ct, "image/"):
		return fault.Errorf(fault.ImageInvalid, "%s is an %s image, which is not supported; %s", field, ct, supported)
	}
	return fault.Errorf(fault.ImageInvalid, "%s is not an image: the content looks like %s; %s", field, ct, supported)
}

// decode decodes the image in b, checking its dimensions against
// opt.MaxPixels before decoding it, and returns it as an *image.RGBA whose
// bounds start at the origin, oriented for display.
func decode(ctx context.Context, b []byte, opt Options) (m *image.RGBA, err error) {
	field := opt.Field
	f, cfg, err := decodeConfig(b, opt)
	if err != nil {
		return nil, err
	}
	// The decoders are not context-aware, but they read in small pieces:
	// failing a read stops them soon after ctx ends.
	r := &ctxReader{ctx: ctx, r: bytes.NewReader(b)}
	defer func() {
		// The standard decoders do not panic on bad input, but a third-party
		// one might; one bad image must not take the process down.
		if p := recover(); p != nil {
			m, err = nil, fault.Wrap(fault.ImageInvalid,
				fmt.Sprintf("%s is not a valid image: invalid %s data; %s", field, f.name, supported),
				fmt.Errorf("decoder panic: %v", p))
		}
	}()
	src, err := f.decode(r)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, ctxFault(cerr, field)
		}
		return nil, invalid(f, err, field)
	}
	var rgba *image.RGBA
	switch sb := src.Bounds(); {
	case f == formatGIF:
		// Place the first frame on the logical screen, as a browser would;
		// the screen's size is what the pixel cap was checked against.
		rgba = image.NewRGBA(image.Rect(0, 0, cfg.Width, cfg.Height))
		draw.Draw(rgba, sb.Intersect(rgba.Rect), src, sb.Min, draw.Src)
	case sb.Dx() != cfg.Width || sb.Dy() != cfg.Height:
		// The header was checked, the data is something else: trust neither.
		return nil, fault.Errorf(fault.ImageInvalid,
			"%s is not a valid image: the %s header disagrees with the image data; %s", field, f.name, supported)
	default:
		rgba = toRGBA(src)
	}
	if f == formatJPEG {
		rgba = orient(rgba, jpegOrientation(b))
	}
	return rgba, nil
}

// decodeConfig sniffs the format of b and reads its dimensions from the
// header, refusing an image with no pixels or more than opt.MaxPixels.
func decodeConfig(b []byte, opt Options) (*format, image.Config, error) {
	field := opt.Field
	f := sniff(b)
	if f == nil {
		return nil, image.Config{}, unsupported(b, field)
	}
	cfg, err := f.config(bytes.NewReader(b))
	if err != nil {
		return nil, image.Config{}, invalid(f, err, field)
	}
	w, h := int64(cfg.Width), int64(cfg.Height)
	if w <= 0 || h <= 0 {
		return nil, image.Config{}, fault.Errorf(fault.ImageInvalid,
			"%s is not a valid image: the %s header says it is %dx%d pixels; %s", field, f.name, w, h, supported)
	}
	if w*h > int64(opt.MaxPixels) {
		return nil, image.Config{}, fault.Errorf(fault.ImageTooLarge,
			"image is %dx%d (%s megapixels); the limit is %s megapixels", w, h, megapixels(w*h), megapixels(int64(opt.MaxPixels)))
	}
	return f, cfg, nil
}

// invalid describes err, a decoder's failure on data of format f.
func invalid(f *format, err error, field string) *fault.Error {
	text := err.Error()
	var detail string
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		strings.Contains(text, "unexpected EOF"), strings.Contains(text, "not enough pixel data"):
		detail = "unexpected EOF in " + f.name + " data"
	default:
		// The decoders' texts are terse but say what is wrong; drop their
		// package prefixes and keep them short.
		for _, p := range []string{"png: ", "gif: ", "vp8l: ", "vp8: ", "webp: ", "invalid format: ", "invalid JPEG format: "} {
			text = strings.TrimPrefix(text, p)
		}
		if len(text) > 80 {
			text = text[:80] + "..."
		}
		detail = "invalid " + f.name + " data (" + text + ")"
	}
	return fault.Wrap(fault.ImageInvalid, field+" is not a valid image: "+detail+"; "+supported, err)
}

// megapixels formats n pixels in megapixels, exactly and without trailing
// zeros, so a value just over a limit never prints as the limit itself.
func megapixels(n int64) string {
	return strconv.FormatFloat(float64(n)/1e6, 'f', -1, 64)
}

// toRGBA returns m as an *image.RGBA whose bounds start at the origin,
// reusing m when it already is one.
func toRGBA(m image.Image) *image.RGBA {
	b := m.Bounds()
	if r, ok := m.(*image.RGBA); ok && b.Min == (image.Point{}) {
		return r
	}
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, m, b.Min, draw.Src)
	return r
}

// A ctxReader fails its reads once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (r *ctxReader) Read(p []byte) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	return r.r.Read(p)
}

// Extension returns the file extension of b's image format (".png"), or ""
// when b is in no format Load decodes.
func Extension(b []byte) string {
	switch sniff(b) {
	case formatJPEG:
		return ".jpg"
	case formatPNG:
		return ".png"
	case formatGIF:
		return ".gif"
	case formatWebP:
		return ".webp"
	}
	return ""
}
