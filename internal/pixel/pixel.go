// Package pixel blends RGBA pixels four channels at a time. Spread puts
// the R, B, G and A bytes of a pixel (as a little-endian uint32) in the
// 16-bit lanes of a uint64, where a product with a weight of at most 256
// and a sum of two such products cannot carry into the next lane; Pack
// takes them back.
package pixel

import "encoding/binary"

const (
	Mask = 0x00ff00ff00ff00ff // the low byte of every lane
	Half = 0x0080008000800080 // half a weight's unit in every lane, for rounding
)

// Spread puts the channels of the pixel p in lanes: R, B, G, A.
func Spread(p uint32) uint64 {
	return uint64(p&0x00ff00ff) | uint64(p>>8&0x00ff00ff)<<32
}

// Pack returns the pixel whose channels are the low bytes of v's lanes.
func Pack(v uint64) uint32 {
	return uint32(v)&0x00ff00ff | uint32(v>>32)&0x00ff00ff<<8
}

// Lerp blends the spread pixels a and b with the weight f of b, 0..256.
func Lerp(a, b, f uint64) uint64 {
	return (a*(256-f) + b*f + Half) >> 8 & Mask
}

// At returns the pixel at the start of p (4 bytes, RGBA), spread.
func At(p []uint8) uint64 { return Spread(binary.LittleEndian.Uint32(p)) }

// Bilinear returns the bilinear blend of the pixel pairs p (above) and q
// (below), 8 bytes each, with the weight fx of each pair's second pixel
// and fy of q, both 0..256.
func Bilinear(p, q []uint8, fx, fy uint64) uint32 {
	// Each pair in one load.
	a, b := binary.LittleEndian.Uint64(p[:8]), binary.LittleEndian.Uint64(q[:8])
	return Pack(Lerp(Lerp(Spread(uint32(a)), Spread(uint32(a>>32)), fx), Lerp(Spread(uint32(b)), Spread(uint32(b>>32)), fx), fy))
}

// Over returns the premultiplied pixel f drawn over the opaque pixel b:
// each colour channel min(f + b·(255-α)/255, 255), the quotient rounded
// half up, with α f's alpha; the result is opaque.
func Over(f, b uint32) uint32 {
	// v/255 rounded is (v + 128 + (v+128)>>8) >> 8 for v up to 255·255,
	// and every lane's sums stay below 2^16.
	v := Spread(b)*uint64(255-f>>24) + Half
	s := Spread(f) + (v+v>>8&Mask)>>8&Mask
	// A lane over 255 has bit 8 set: saturate its low byte.
	s |= s >> 8 & 0x0001000100010001 * 0xff
	return Pack(s&Mask) | 0xff000000
}
