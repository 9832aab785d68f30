package intake

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"stillmotion/internal/fault"
)

// The colours of the quadrants of quadrants().
var (
	red    = color.RGBA{255, 0, 0, 255}
	green  = color.RGBA{0, 255, 0, 255}
	blue   = color.RGBA{0, 0, 255, 255}
	yellow = color.RGBA{255, 255, 0, 255}
)

// quadrants returns a w×h image whose top-left, top-right, bottom-left and
// bottom-right quarters are red, green, blue and yellow: no rotation or
// mirror image of it equals another.
func quadrants(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := red
			switch {
			case x >= w/2 && y < h/2:
				c = green
			case x < w/2 && y >= h/2:
				c = blue
			case x >= w/2 && y >= h/2:
				c = yellow
			}
			m.SetRGBA(x, y, c)
		}
	}
	return m
}

// nearest returns which of red, green, blue and yellow c is closest to, so
// tests can compare colours that went through JPEG.
func nearest(c color.Color) string {
	r, g, b, _ := c.RGBA()
	best, dist := "", uint32(1<<32-1)
	for _, k := range []struct {
		name string
		c    color.RGBA
	}{{"red", red}, {"green", green}, {"blue", blue}, {"yellow", yellow}} {
		d := diff(r>>8, uint32(k.c.R)) + diff(g>>8, uint32(k.c.G)) + diff(b>>8, uint32(k.c.B))
		if d < dist {
			best, dist = k.name, d
		}
	}
	return best
}

func diff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, m); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encodeGIF returns a two-frame GIF on a w×h screen whose first frame is a
// red rectangle at r and whose second frame fills the screen with blue.
func encodeGIF(t testing.TB, w, h int, r image.Rectangle) []byte {
	t.Helper()
	pal := color.Palette{color.Transparent, red, blue}
	first := image.NewPaletted(r, pal)
	for i := range first.Pix {
		first.Pix[i] = 1
	}
	second := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for i := range second.Pix {
		second.Pix[i] = 2
	}
	var buf bytes.Buffer
	err := gif.EncodeAll(&buf, &gif.GIF{
		Image:  []*image.Paletted{first, second},
		Delay:  []int{10, 10},
		Config: image.Config{ColorModel: pal, Width: w, Height: h},
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bitWriter packs bits least-significant first, as VP8L wants.
type bitWriter struct {
	b     []byte
	nBits uint
}

func (w *bitWriter) write(v uint32, n uint) {
	for i := range n {
		if w.nBits%8 == 0 {
			w.b = append(w.b, 0)
		}
		w.b[len(w.b)-1] |= byte(v>>i&1) << (w.nBits % 8)
		w.nBits++
	}
}

// encodeWebP returns a lossless WebP of a w×h image of the single colour c.
// Each of the five prefix codes is a "simple" code of one symbol, which
// takes no bits to read, so the pixel data is empty.
func encodeWebP(w, h int, c color.NRGBA) []byte {
	var bw bitWriter
	bw.write(0x2f, 8) // VP8L signature
	bw.write(uint32(w-1), 14)
	bw.write(uint32(h-1), 14)
	bw.write(1, 1) // alpha is used
	bw.write(0, 3) // version
	bw.write(0, 1) // no transform
	bw.write(0, 1) // no colour cache
	bw.write(0, 1) // no meta prefix codes
	for _, v := range []uint8{c.G, c.R, c.B, c.A} {
		bw.write(1, 1) // simple code
		bw.write(0, 1) // one symbol
		bw.write(1, 1) // of 8 bits
		bw.write(uint32(v), 8)
	}
	bw.write(1, 1) // distance: simple code
	bw.write(0, 1) // one symbol
	bw.write(0, 1) // of 1 bit
	bw.write(0, 1)

	chunk := riffChunk("VP8L", bw.b)
	var out []byte
	out = append(out, "RIFF"...)
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(chunk)))
	out = append(out, "WEBP"...)
	return append(out, chunk...)
}

func riffChunk(id string, data []byte) []byte {
	b := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	b = append(b, data...)
	if len(data)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// pngHeader returns a PNG signature, an IHDR chunk claiming w×h RGB pixels
// with a valid CRC, and IEND: enough for DecodeConfig, nothing to decode.
func pngHeader(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[4:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 2, 0, 0, 0) // 8-bit RGB, deflate, no filter, no interlace
	b := []byte("\x89PNG\r\n\x1a\n")
	b = append(b, chunk("IHDR", ihdr)...)
	return append(b, chunk("IEND", nil)...)
}

// A byteOrder reads and appends in one byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// An ifdEntry is one 12-byte TIFF IFD entry.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    uint32 // a SHORT sits in the first two bytes
}

// exifSegment returns a JPEG APP1 segment holding a TIFF structure in byte
// order bo with IFD0 made of entries.
func exifSegment(bo byteOrder, entries ...ifdEntry) []byte {
	tiff := []byte("MM\x00*")
	if bo.String() == binary.LittleEndian.String() {
		tiff = []byte("II*\x00")
	}
	tiff = bo.AppendUint32(tiff, 8)
	tiff = bo.AppendUint16(tiff, uint16(len(entries)))
	for _, e := range entries {
		tiff = bo.AppendUint16(tiff, e.tag)
		tiff = bo.AppendUint16(tiff, e.typ)
		tiff = bo.AppendUint32(tiff, e.count)
		if e.typ == 3 {
			tiff = bo.AppendUint16(tiff, uint16(e.value))
			tiff = append(tiff, 0, 0)
		} else {
			tiff = bo.AppendUint32(tiff, e.value)
		}
	}
	tiff = bo.AppendUint32(tiff, 0) // no IFD1
	return segment(0xE1, append([]byte("Exif\x00\x00"), tiff...))
}

// orientationSegment returns an APP1 Exif segment recording orientation o.
func orientationSegment(bo byteOrder, o uint32) []byte {
	return exifSegment(bo, ifdEntry{0x0110, 2, 4, 0}, ifdEntry{0x0112, 3, 1, o})
}

// segment returns a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	b := []byte{0xFF, marker}
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)+2))
	return append(b, payload...)
}

// withSegments returns the JPEG j with segs inserted after its SOI marker.
func withSegments(j []byte, segs ...[]byte) []byte {
	out := append([]byte(nil), j[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, j[2:]...)
}

func dataURI(mediaType string, b []byte) string {
	return "data:" + mediaType + ";base64," + base64.StdEncoding.EncodeToString(b)
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// serve starts a loopback test server and closes it when the test ends.
func serve(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// serveBytes serves b on every path with a misleading Content-Type: Load
// must sniff, not trust it.
func serveBytes(t testing.TB, b []byte) *httptest.Server {
	return serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write(b)
	})
}

// wantFault fails t unless err is a *fault.Error of kind k whose message
// contains each of msgs.
func wantFault(t testing.TB, err error, k fault.Kind, msgs ...string) {
	t.Helper()
	var fe *fault.Error
	if !errors.As(err, &fe) {
		t.Fatalf("error = %v (%T), want a *fault.Error of kind %v", err, err, k)
	}
	if fe.Kind != k {
		t.Errorf("kind = %v, want %v (error: %v)", fe.Kind, k, err)
	}
	for _, m := range msgs {
		if !strings.Contains(fe.Message, m) {
			t.Errorf("message = %q, want it to contain %q", fe.Message, m)
		}
	}
}
