package intake

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

const allowedMsg = "it must be an http(s) URL or a data:image/...;base64, URI"

func TestCheck(t *testing.T) {
	pngb := encodePNG(t, quadrants(8, 6))
	html := []byte("<!DOCTYPE html><html><body>not an image</body></html>")
	tests := []struct {
		name string
		src  string
		opt  Options
		kind fault.Kind // Internal: want no error
		msgs []string
	}{
		{name: "https URL", src: "https://example.com/cat.jpg?size=large"},
		{name: "http URL with port", src: "http://images.example.com:8080/a/b.png"},
		{name: "public IP literal", src: "http://8.8.8.8/x.png"},
		{name: "data URI", src: dataURI("image/png", pngb)},
		{name: "data URI, declared type wrong", src: dataURI("image/jpeg", pngb)},
		{name: "data URI, upper case", src: "DATA:IMAGE/PNG;BASE64," + base64.StdEncoding.EncodeToString(pngb)},
		{name: "data URI, URL-safe unpadded", src: "data:image/png;base64," + base64.RawURLEncoding.EncodeToString(pngb)},
		{name: "data URI, with parameter", src: "data:image/png;name=a.png;base64," + base64.StdEncoding.EncodeToString(pngb)},
		{name: "loopback allowed", src: "http://127.0.0.1:8080/", opt: Options{AllowPrivate: true}},

		{name: "empty", src: "", kind: fault.Invalid,
			msgs: []string{"image_url is empty; " + allowedMsg}},
		{name: "blank", src: "  ", kind: fault.Invalid,
			msgs: []string{"image_url is empty"}},
		{name: "ftp", src: "ftp://example.com/cat.jpg", kind: fault.Invalid,
			msgs: []string{`image_url has the scheme "ftp"; ` + allowedMsg}},
		{name: "file", src: "file:///etc/passwd", kind: fault.Invalid,
			msgs: []string{`scheme "file"`}},
		{name: "relative", src: "/images/cat.jpg", kind: fault.Invalid,
			msgs: []string{"image_url is not an absolute URL; " + allowedMsg}},
		{name: "no scheme", src: "example.com/cat.jpg", kind: fault.Invalid,
			msgs: []string{"not an absolute URL"}},
		{name: "no host", src: "https:///cat.jpg", kind: fault.Invalid,
			msgs: []string{"image_url has no host; " + allowedMsg}},
		{name: "opaque", src: "http:example.com", kind: fault.Invalid,
			msgs: []string{"has no host"}},
		{name: "unparseable", src: "http://[::1/", kind: fault.Invalid,
			msgs: []string{"image_url is not a valid URL; " + allowedMsg}},
		{name: "too long", src: "https://example.com/" + strings.Repeat("a", 9000), kind: fault.Invalid,
			msgs: []string{"longer than 8192 characters"}},
		{name: "loopback literal", src: "http://127.0.0.1/", kind: fault.ImageForbidden,
			msgs: []string{"image_url points at 127.0.0.1, a loopback address; stillmotion does not fetch private, loopback, link-local or multicast addresses (set STILLMOTION_ALLOW_PRIVATE_FETCH=1 to allow)"}},
		{name: "metadata literal", src: "http://169.254.169.254/latest/meta-data", kind: fault.ImageForbidden,
			msgs: []string{"169.254.169.254, a link-local address"}},
		{name: "IPv6 loopback literal", src: "http://[::1]:8080/", kind: fault.ImageForbidden,
			msgs: []string{"::1, a loopback address"}},
		{name: "localhost", src: "http://localhost:8080/x.png", kind: fault.ImageForbidden,
			msgs: []string{"localhost, a loopback address"}},

		{name: "bad base64", src: "data:image/png;base64,iVBORw0K!!!", kind: fault.Invalid,
			msgs: []string{"image_url is a data: URI whose base64 data is invalid at character 9"}},
		{name: "base64 with spaces", src: "data:image/png;base64,iVBO Rw0K", kind: fault.Invalid,
			msgs: []string{"base64 data is invalid", "without spaces"}},
		{name: "non-image data URI", src: dataURI("image/png", html), kind: fault.ImageInvalid,
			msgs: []string{"the content looks like text/html", "supported formats are JPEG, PNG, WebP and GIF"}},
		{name: "text data URI", src: dataURI("text/plain", []byte("hello")), kind: fault.Invalid,
			msgs: []string{`data: URI of type "text/plain"; only data:image/...;base64, URIs are accepted`}},
		{name: "data URI without type", src: "data:;base64,aGVsbG8=", kind: fault.Invalid,
			msgs: []string{`of type "text/plain"`}},
		{name: "data URI not base64", src: "data:image/svg+xml,<svg/>", kind: fault.Invalid,
			msgs: []string{"not base64-encoded", "data:image/png;base64,<base64 data>"}},
		{name: "data URI without comma", src: "data:image/png;base64", kind: fault.Invalid,
			msgs: []string{"without a comma"}},
		{name: "data URI without data", src: "data:image/png;base64,", kind: fault.Invalid,
			msgs: []string{"with no data"}},
		{name: "data URI truncated image header", src: dataURI("image/png", pngb[:20]), kind: fault.ImageInvalid,
			msgs: []string{"image_url is not a valid image: unexpected EOF in PNG data"}},
		{name: "data URI over the pixel cap", src: dataURI("image/png", pngHeader(100000, 100000)), kind: fault.ImageTooLarge,
			msgs: []string{"image is 100000x100000 (10000 megapixels); the limit is 40 megapixels"}},
		{name: "data URI over a custom pixel cap", src: dataURI("image/png", pngb), opt: Options{MaxPixels: 40}, kind: fault.ImageTooLarge,
			msgs: []string{"image is 8x6 (0.000048 megapixels); the limit is 0.00004 megapixels"}},
		{name: "data URI over the byte cap", src: dataURI("image/png", pngb), opt: Options{MaxBytes: 32}, kind: fault.ImageTooLarge,
			msgs: []string{"image is larger than the 32 bytes limit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.src, tt.opt)
			if tt.kind == fault.Internal {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			wantFault(t, err, tt.kind, tt.msgs...)
			var fe *fault.Error
			if errors.As(err, &fe) && tt.kind == fault.Invalid &&
				(len(fe.Fields) != 1 || fe.Fields[0].Field != "image_url" || fe.Fields[0].Message != fe.Message) {
				t.Errorf("Fields = %+v, want the image_url field with the message", fe.Fields)
			}
		})
	}
}

// TestLoadFormats decodes each supported format, served over HTTP with a
// misleading Content-Type and passed as a data: URI.
func TestLoadFormats(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		w, h int
		// at, if set, is a pixel and the colour Load must give it.
		at   image.Point
		want color.RGBA
	}{
		{"JPEG", encodeJPEG(t, quadrants(64, 48)), 64, 48, image.Pt(60, 44), yellow},
		{"JPEG photo", readTestdata(t, "rocket.jpg"), 640, 427, image.Point{}, color.RGBA{}},
		{"PNG", encodePNG(t, quadrants(30, 20)), 30, 20, image.Pt(29, 0), green},
		{"PNG with alpha", encodePNG(t, &image.NRGBA{Pix: []byte{255, 0, 0, 128}, Stride: 4, Rect: image.Rect(0, 0, 1, 1)}),
			1, 1, image.Pt(0, 0), color.RGBA{128, 0, 0, 128}},
		{"GIF first frame", encodeGIF(t, 40, 30, image.Rect(10, 5, 30, 25)), 40, 30, image.Pt(10, 5), red},
		{"GIF outside the first frame", encodeGIF(t, 40, 30, image.Rect(10, 5, 30, 25)), 40, 30, image.Pt(5, 5), color.RGBA{}},
		{"WebP lossless", encodeWebP(7, 5, color.NRGBA{10, 200, 30, 255}), 7, 5, image.Pt(6, 4), color.RGBA{10, 200, 30, 255}},
		{"WebP lossy", readTestdata(t, "blue-purple-pink.lossy.webp"), 150, 100, image.Point{}, color.RGBA{}},
	}
	for _, tt := range tests {
		srv := serveBytes(t, tt.b)
		for _, via := range []struct{ name, src string }{
			{"http", srv.URL + "/image.txt"},
			{"data", dataURI("image/png", tt.b)},
		} {
			t.Run(tt.name+"/"+via.name, func(t *testing.T) {
				m, err := Load(context.Background(), via.src, Options{AllowPrivate: true})
				if err != nil {
					t.Fatal(err)
				}
				rgba, ok := m.(*image.RGBA)
				if !ok {
					t.Fatalf("Load returned %T, want *image.RGBA", m)
				}
				if rgba.Rect != image.Rect(0, 0, tt.w, tt.h) {
					t.Errorf("bounds = %v, want %dx%d at the origin", rgba.Rect, tt.w, tt.h)
				}
				if tt.at == (image.Point{}) {
					return
				}
				if got := rgba.RGBAAt(tt.at.X, tt.at.Y); !near(got, tt.want) {
					t.Errorf("pixel %v = %v, want %v", tt.at, got, tt.want)
				}
			})
		}
	}
}

// near reports whether a and b differ by little enough per channel to be
// the same colour after JPEG.
func near(a, b color.RGBA) bool {
	const tol = 24
	return diff(uint32(a.R), uint32(b.R)) <= tol && diff(uint32(a.G), uint32(b.G)) <= tol &&
		diff(uint32(a.B), uint32(b.B)) <= tol && diff(uint32(a.A), uint32(b.A)) <= tol
}

// TestLoadInvalidImages feeds Load content that is not a decodable image
// in a supported format.
func TestLoadInvalidImages(t *testing.T) {
	j := encodeJPEG(t, quadrants(64, 64))
	p := encodePNG(t, quadrants(64, 64))
	corruptPNG := bytes.Clone(p)
	corruptPNG[len(corruptPNG)-20] ^= 0xFF // inside IDAT: the checksum fails
	tests := []struct {
		name string
		b    []byte
		kind fault.Kind
		msgs []string
	}{
		{"HTML", []byte("<!doctype html>\n<html><head><title>404</title></head></html>"), fault.ImageInvalid,
			[]string{"image_url is not an image: the content looks like text/html; supported formats are JPEG, PNG, WebP and GIF"}},
		{"text", []byte("just some text"), fault.ImageInvalid,
			[]string{"looks like text/plain"}},
		{"JSON", []byte(`{"error":"nope"}`), fault.ImageInvalid,
			[]string{"image_url is not an image"}},
		{"empty", nil, fault.ImageInvalid,
			[]string{"image_url is empty (0 bytes)"}},
		{"binary", []byte{0, 1, 2, 3, 4, 5, 6, 7, 8}, fault.ImageInvalid,
			[]string{"not an image in a recognised format"}},
		{"BMP", append([]byte("BM"), make([]byte, 60)...), fault.ImageInvalid,
			[]string{"image_url is an image/bmp image, which is not supported; supported formats are JPEG, PNG, WebP and GIF"}},
		{"truncated JPEG", j[:len(j)/2], fault.ImageInvalid,
			[]string{"image_url is not a valid image: unexpected EOF in JPEG data; supported formats are JPEG, PNG, WebP and GIF"}},
		{"truncated JPEG header", j[:8], fault.ImageInvalid,
			[]string{"unexpected EOF in JPEG data"}},
		{"truncated PNG", p[:len(p)-30], fault.ImageInvalid,
			[]string{"unexpected EOF in PNG data"}},
		{"corrupt PNG", corruptPNG, fault.ImageInvalid,
			[]string{"image_url is not a valid image: invalid PNG data"}},
		{"truncated GIF", encodeGIF(t, 40, 30, image.Rect(0, 0, 40, 30))[:40], fault.ImageInvalid,
			[]string{"GIF data"}},
		{"truncated WebP", encodeWebP(7, 5, color.NRGBA{1, 2, 3, 255})[:24], fault.ImageInvalid,
			[]string{"WebP data"}},
		{"zero-size GIF", []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00;"), fault.ImageInvalid,
			[]string{"the GIF header says it is 0x0 pixels"}},
		{"PNG header claiming 100000x100000", pngHeader(100000, 100000), fault.ImageTooLarge,
			[]string{"image is 100000x100000 (10000 megapixels); the limit is 40 megapixels"}},
		{"PNG header claiming 50000x50000", pngHeader(50000, 50000), fault.ImageTooLarge,
			[]string{"image is 50000x50000 (2500 megapixels); the limit is 40 megapixels"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(context.Background(), dataURI("image/png", tt.b), Options{})
			if len(tt.b) == 0 {
				// An empty payload is a malformed data: URI; serve it instead.
				srv := serveBytes(t, nil)
				_, err = Load(context.Background(), srv.URL, Options{AllowPrivate: true})
			}
			wantFault(t, err, tt.kind, tt.msgs...)
		})
	}
}

func TestLoadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, src := range []string{
		dataURI("image/png", encodePNG(t, quadrants(64, 64))),
		serveBytes(t, encodePNG(t, quadrants(64, 64))).URL,
	} {
		t.Run(src[:4], func(t *testing.T) {
			_, err := Load(ctx, src, Options{AllowPrivate: true})
			wantFault(t, err, fault.Cancelled, "loading image_url was cancelled")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(%v, context.Canceled) = false, want true", err)
			}
		})
	}
}

func FuzzParseDataURI(f *testing.F) {
	f.Add(dataURI("image/png", encodePNG(f, quadrants(4, 4))))
	f.Add("data:image/png;base64,iVBORw0KGgo=")
	f.Add("data:image/png;base64,iVBORw0KGgo")
	f.Add("data:image/png;base64,-_-_")
	f.Add("data:image/png;base64,+/-_")
	f.Add("data:image/png;base64,====")
	f.Add("data:image/;base64,AAAA")
	f.Add("data:;base64,")
	f.Add("data:image/png,")
	f.Add("data:")
	f.Add("data:,")
	const max = 1 << 10
	f.Fuzz(func(t *testing.T, s string) {
		if !isDataURI(s) {
			return
		}
		b, err := parseDataURI(s, max, "image_url")
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Message == "" {
				t.Fatalf("parseDataURI error %v is not a *fault.Error with a message", err)
			}
			return
		}
		if len(b) > max {
			t.Fatalf("parseDataURI returned %d bytes, over the %d cap", len(b), max)
		}
	})
}

// FuzzDecode checks that decode never panics and returns either an upright
// *image.RGBA within the pixel cap or a *fault.Error.
func FuzzDecode(f *testing.F) {
	f.Add(encodeJPEG(f, quadrants(16, 8)))
	f.Add(withSegments(encodeJPEG(f, quadrants(8, 16)), orientationSegment(binary.LittleEndian, 6)))
	f.Add(encodePNG(f, quadrants(5, 3)))
	f.Add(encodeGIF(f, 8, 8, image.Rect(2, 2, 6, 6)))
	f.Add(encodeWebP(3, 2, color.NRGBA{1, 2, 3, 4}))
	f.Add(pngHeader(1, 1))
	f.Add(pngHeader(1<<20, 1<<20))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8L"))
	opt := Options{MaxPixels: 1 << 16}.withDefaults() // bound the fuzzer's memory
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decode(context.Background(), b, opt)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) {
				t.Fatalf("decode error %v is not a *fault.Error", err)
			}
			return
		}
		if r := m.Rect; r.Min != (image.Point{}) || r.Dx()*r.Dy() > opt.MaxPixels || r.Empty() {
			t.Fatalf("decode returned bounds %v", r)
		}
	})
}
