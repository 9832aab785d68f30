package intake

import (
	"bytes"
	"encoding/binary"
	"image"
)

// exifHeader starts the payload of a JPEG APP1 segment that holds EXIF data.
var exifHeader = []byte("Exif\x00\x00")

// jpegOrientation returns the EXIF orientation, 1 to 8, that the JPEG data b
// records in its first APP1 Exif segment, or 1 when b records none or the
// metadata cannot be read. It never panics, whatever b holds.
func jpegOrientation(b []byte) int {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	for i := 2; i+2 <= len(b); {
		if b[i] != 0xFF {
			return 1 // lost sync: not a marker where one must be
		}
		marker := b[i+1]
		i += 2
		switch {
		case marker == 0xFF:
			i-- // a fill byte; the next 0xFF may start the marker
			continue
		case marker == 0x01, marker == 0xD8, marker >= 0xD0 && marker <= 0xD7:
			continue // standalone markers carry no length
		case marker == 0xDA, marker == 0xD9:
			return 1 // metadata precedes the scan; don't walk entropy data
		}
		if i+2 > len(b) {
			return 1
		}
		n := int(b[i])<<8 | int(b[i+1]) // includes the two length bytes
		if n < 2 || n > len(b)-i {
			return 1
		}
		if seg := b[i+2 : i+n]; marker == 0xE1 && bytes.HasPrefix(seg, exifHeader) {
			return tiffOrientation(seg[len(exifHeader):])
		}
		i += n
	}
	return 1
}

// tiffOrientation returns the Orientation tag (0x0112) of IFD0 of the TIFF
// structure t, or 1 when it is missing, out of range or unreadable.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	off := uint64(bo.Uint32(t[4:]))
	if off < 8 || off+2 > uint64(len(t)) {
		return 1
	}
	n := int(bo.Uint16(t[off:]))
	for e := int(off) + 2; n > 0 && e+12 <= len(t); n, e = n-1, e+12 {
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		var v uint32
		switch typ, count := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]); {
		case count != 1:
			return 1
		case typ == 3: // SHORT, as the standard says
			v = uint32(bo.Uint16(t[e+8:]))
		case typ == 4: // LONG, written by some broken encoders
			v = bo.Uint32(t[e+8:])
		default:
			return 1
		}
		if v < 1 || v > 8 {
			return 1
		}
		return int(v)
	}
	return 1
}

// orient returns m transformed for display according to the EXIF
// orientation o: mirrored for 2 and 4, rotated 180° for 3, transposed for 5,
// rotated 90° clockwise for 6, transversed for 7 and rotated 90°
// counterclockwise for 8. Orientation 1 or an unknown value returns m itself.
// m's bounds must start at the origin.
func orient(m *image.RGBA, o int) *image.RGBA {
	w, h := m.Rect.Dx(), m.Rect.Dy()
	if o < 2 || o > 8 || w == 0 || h == 0 {
		return m
	}
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	// Walk m from the source pixel that lands at the output's origin, stepping
	// by dx for each output column and dy for each output row.
	s := m.Stride
	last, right := (h-1)*s, 4*(w-1)
	var base, dx, dy int
	switch o {
	case 2: // mirror horizontally
		base, dx, dy = right, -4, s
	case 3: // rotate 180°
		base, dx, dy = last+right, -4, -s
	case 4: // mirror vertically
		base, dx, dy = last, 4, -s
	case 5: // transpose
		base, dx, dy = 0, s, 4
	case 6: // rotate 90° clockwise
		base, dx, dy = last, -s, 4
	case 7: // transverse
		base, dx, dy = last+right, -s, -4
	case 8: // rotate 90° counterclockwise
		base, dx, dy = right, s, -4
	}
	d := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := range dh {
		row := d.Pix[y*d.Stride : y*d.Stride+4*dw]
		si := base + y*dy
		for x := 0; x < len(row); x += 4 {
			*(*[4]byte)(row[x:]) = *(*[4]byte)(m.Pix[si:])
			si += dx
		}
	}
	return d
}
