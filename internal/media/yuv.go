package media

import (
	"encoding/binary"
	"image"
)

// BT.601 coefficients for limited-range Y'CbCr (Y' 16–235, Cb and Cr
// 16–240) in 16-bit fixed point: the matrix ffmpeg's scaler applies by
// default when it turns untagged RGB into yuv420p, and the one it applies
// again when the file is decoded back to RGB, so the colours of a frame
// are what they were when ffmpeg converted them. Each row of chroma
// coefficients sums to zero, so a grey stays exactly at 128.
const (
	yR, yG, yB    = 16829, 33039, 6416
	cbR, cbG, cbB = -9714, -19070, 28784
	crR, crG, crB = 28784, -24103, -4681
)

// yuv420Size is the number of bytes of one w x h frame in planar 4:2:0.
func yuv420Size(w, h int) int { return w*h + 2*(w/2)*(h/2) }

// toYUV420 writes src's pixels to dst as planar Y'CbCr 4:2:0 (the Y' plane,
// then Cb, then Cr, each row packed): what ffmpeg's yuv420p raw input
// expects. Chroma is the mean of each 2x2 block, centred as H.264's 4:2:0
// sampling is vertically. Integer arithmetic only, so the bytes are the
// same on every machine. Width and height are even; alpha is ignored.
//
// Two pixels side by side are converted at once, each channel of each in
// a 32-bit lane of one uint64, and Cb and Cr of a block together: the sums
// stay under 2^26, so the lanes never carry into each other, and the
// result is the one the arithmetic pixel by pixel gives
// (TestToYUV420Lanes).
func toYUV420(dst []byte, src *image.RGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	cw := w / 2
	ys := dst[:w*h]
	cbs := dst[w*h : w*h+cw*(h/2)]
	crs := dst[w*h+cw*(h/2) : w*h+2*cw*(h/2)]
	const (
		lanes = 0x000000ff000000ff // the low byte of each 32-bit lane
		yBias = (16<<16 + 1<<15) * 0x0000000100000001
		// Cb in the low 32 bits and Cr above: each sum with its bias is
		// between 0 and 2^26, so the two come apart exactly.
		cR    = cbR + crR<<32
		cG    = cbG + crG<<32
		cB    = cbB + crB<<32
		cBias = (128<<18 + 1<<17) * (1 + 1<<32)
	)
	le := binary.LittleEndian
	for y := 0; y < h; y += 2 {
		top := src.Pix[y*src.Stride:][:8*cw]
		bot := src.Pix[(y+1)*src.Stride:][:8*cw]
		y0 := ys[y*w:][:2*cw]
		y1 := ys[(y+1)*w:][:2*cw]
		cb := cbs[(y/2)*cw:][:cw]
		cr := crs[(y/2)*cw:][:cw]
		for x := range cb {
			// Two pixels of each row at once, as little-endian RGBA pairs:
			// red, green and blue of each pair in two lanes.
			a := le.Uint64(top[8*x:][:8])
			b := le.Uint64(bot[8*x:][:8])
			ra, ga, ba := a&lanes, a>>8&lanes, a>>16&lanes
			rb, gb, bb := b&lanes, b>>8&lanes, b>>16&lanes
			ya := (yR*ra + yG*ga + yB*ba + yBias) >> 16 & lanes
			yb := (yR*rb + yG*gb + yB*bb + yBias) >> 16 & lanes
			le.PutUint16(y0[2*x:][:2], uint16(ya|ya>>24))
			le.PutUint16(y1[2*x:][:2], uint16(yb|yb>>24))
			// The sums of four pixels carry two more bits.
			r, g, bl := ra+rb, ga+gb, ba+bb
			sr := int64(r&0xffffffff + r>>32)
			sg := int64(g&0xffffffff + g>>32)
			sb := int64(bl&0xffffffff + bl>>32)
			c := sr*cR + sg*cG + sb*cB + cBias
			cb[x] = uint8(c >> 18)
			cr[x] = uint8(c >> 50)
		}
	}
}
