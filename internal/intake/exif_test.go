package intake

import (
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"testing"
)

func TestJPEGOrientation(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	jfif := segment(0xE0, []byte("JFIF\x00\x01\x02\x00\x00\x01\x00\x01\x00\x00"))
	xmp := segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>"))
	sos := []byte{0xFF, 0xDA, 0x00, 0x02}
	soi := []byte{0xFF, 0xD8}
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	big6 := orientationSegment(be, 6)
	tests := []struct {
		name string
		b    []byte
		want int
	}{
		{"big-endian", cat(soi, big6, sos), 6},
		{"little-endian", cat(soi, orientationSegment(le, 8), sos), 8},
		{"after JFIF and XMP", cat(soi, jfif, xmp, orientationSegment(le, 3), sos), 3},
		{"fill bytes before the marker", cat(soi, []byte{0xFF, 0xFF, 0xFF}, big6), 6},
		{"LONG value", cat(soi, exifSegment(be, ifdEntry{0x0112, 4, 1, 5})), 5},
		{"orientation 1", cat(soi, orientationSegment(be, 1)), 1},
		{"orientation 0", cat(soi, orientationSegment(be, 0)), 1},
		{"orientation 9", cat(soi, orientationSegment(le, 9)), 1},
		{"ASCII type", cat(soi, exifSegment(be, ifdEntry{0x0112, 2, 1, 6})), 1},
		{"count 2", cat(soi, exifSegment(be, ifdEntry{0x0112, 3, 2, 6})), 1},
		{"no orientation tag", cat(soi, exifSegment(be, ifdEntry{0x010F, 2, 4, 0})), 1},
		{"no Exif", cat(soi, jfif, sos), 1},
		{"Exif after the scan", cat(soi, sos, big6), 1},
		{"not a JPEG", cat([]byte("\x89PNG\r\n\x1a\n"), big6), 1},
		{"empty", nil, 1},
		{"SOI only", soi, 1},
		{"truncated segment", cat(soi, big6[:len(big6)-3]), 1},
		{"segment length 0", cat(soi, []byte{0xFF, 0xE1, 0x00, 0x00}), 1},
		{"segment length 1", cat(soi, []byte{0xFF, 0xE1, 0x00, 0x01, 0x00}), 1},
		{"bad TIFF magic", cat(soi, segment(0xE1, []byte("Exif\x00\x00XX\x00*\x00\x00\x00\x08"))), 1},
		{"IFD offset past the end", cat(soi, segment(0xE1, []byte("Exif\x00\x00MM\x00*\xff\xff\xff\xf0"))), 1},
		{"IFD offset inside header", cat(soi, segment(0xE1, []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x02\x00\x01"))), 1},
		{"entry count past the end", cat(soi, segment(0xE1, []byte("Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff\x01\x12\x00\x03"))), 1},
		{"garbage between segments", cat(soi, []byte{0x00, 0x01}, big6), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := jpegOrientation(tt.b); got != tt.want {
				t.Errorf("jpegOrientation = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestOrient checks every pixel of orient against a transform written in
// coordinates, on an image that is neither square nor even.
func TestOrient(t *testing.T) {
	const w, h = 5, 3
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range src.Pix {
		src.Pix[i] = byte(i)
	}
	// want maps a display pixel (x, y) back to the stored pixel it shows.
	want := map[int]func(x, y int) (int, int){
		1: func(x, y int) (int, int) { return x, y },
		2: func(x, y int) (int, int) { return w - 1 - x, y },
		3: func(x, y int) (int, int) { return w - 1 - x, h - 1 - y },
		4: func(x, y int) (int, int) { return x, h - 1 - y },
		5: func(x, y int) (int, int) { return y, x },
		6: func(x, y int) (int, int) { return y, h - 1 - x },
		7: func(x, y int) (int, int) { return w - 1 - y, h - 1 - x },
		8: func(x, y int) (int, int) { return w - 1 - y, x },
	}
	for o := 1; o <= 8; o++ {
		t.Run(fmt.Sprint(o), func(t *testing.T) {
			got := orient(src, o)
			dw, dh := w, h
			if o >= 5 {
				dw, dh = h, w
			}
			if got.Rect != image.Rect(0, 0, dw, dh) {
				t.Fatalf("bounds = %v, want %dx%d", got.Rect, dw, dh)
			}
			for y := range dh {
				for x := range dw {
					sx, sy := want[o](x, y)
					if g, s := got.RGBAAt(x, y), src.RGBAAt(sx, sy); g != s {
						t.Errorf("pixel (%d,%d) = %v, want stored pixel (%d,%d) = %v", x, y, g, sx, sy, s)
					}
				}
			}
		})
	}
}

// TestLoadOrientation stores the same picture with each EXIF orientation and
// checks, from the EXIF definition of where the stored 0th row and 0th
// column are displayed, where each corner of it must end up.
func TestLoadOrientation(t *testing.T) {
	// The stored image is 48x32: red top-left, green top-right, blue
	// bottom-left, yellow bottom-right. Red sits where the 0th row and 0th
	// column meet, green at the far end of the 0th row, blue at the far end
	// of the 0th column.
	stored := encodeJPEG(t, quadrants(48, 32))
	tests := []struct {
		o              uint32
		rowAt, colAt   string // the EXIF table: where the 0th row and 0th column go
		w, h           int
		tl, tr, bl, br string
	}{
		{1, "top", "left", 48, 32, "red", "green", "blue", "yellow"},
		{2, "top", "right", 48, 32, "green", "red", "yellow", "blue"},
		{3, "bottom", "right", 48, 32, "yellow", "blue", "green", "red"},
		{4, "bottom", "left", 48, 32, "blue", "yellow", "red", "green"},
		{5, "left", "top", 32, 48, "red", "blue", "green", "yellow"},
		{6, "right", "top", 32, 48, "blue", "red", "yellow", "green"},
		{7, "right", "bottom", 32, 48, "yellow", "green", "blue", "red"},
		{8, "left", "bottom", 32, 48, "green", "yellow", "red", "blue"},
	}
	for _, tt := range tests {
		for _, bo := range []byteOrder{binary.BigEndian, binary.LittleEndian} {
			t.Run(fmt.Sprintf("%d/%s", tt.o, bo), func(t *testing.T) {
				j := withSegments(stored, orientationSegment(bo, tt.o))
				m, err := Load(context.Background(), dataURI("image/jpeg", j), Options{})
				if err != nil {
					t.Fatal(err)
				}
				rgba, ok := m.(*image.RGBA)
				if !ok {
					t.Fatalf("Load returned %T, want *image.RGBA", m)
				}
				if rgba.Rect != image.Rect(0, 0, tt.w, tt.h) {
					t.Fatalf("bounds = %v, want %dx%d", rgba.Rect, tt.w, tt.h)
				}
				corners := []struct {
					name string
					x, y int
					want string
				}{
					{"top-left", 3, 3, tt.tl},
					{"top-right", tt.w - 4, 3, tt.tr},
					{"bottom-left", 3, tt.h - 4, tt.bl},
					{"bottom-right", tt.w - 4, tt.h - 4, tt.br},
				}
				for _, c := range corners {
					if got := nearest(rgba.At(c.x, c.y)); got != c.want {
						t.Errorf("0th row at %s, 0th column at %s: %s corner is %s, want %s",
							tt.rowAt, tt.colAt, c.name, got, c.want)
					}
				}
			})
		}
	}
}

func FuzzOrientation(f *testing.F) {
	j := encodeJPEG(f, quadrants(16, 16))
	for o := uint32(0); o <= 9; o++ {
		f.Add(withSegments(j, orientationSegment(binary.BigEndian, o)))
		f.Add(withSegments(j[:40], orientationSegment(binary.LittleEndian, o)))
	}
	f.Add(withSegments(j, exifSegment(binary.BigEndian, ifdEntry{0x0112, 4, 1, 6})))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\xff\xff\xff\xff"))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00II*\x00\x08\x00\x00\x00"))
	f.Add([]byte("\xff\xd8\xff\xff\xff"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(b); o < 1 || o > 8 {
			t.Fatalf("jpegOrientation = %d, want 1 to 8", o)
		}
	})
}
