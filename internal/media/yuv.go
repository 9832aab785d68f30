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
func toYUV420(dst []byte, src *image.RGBA) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	cw := w / 2
	ys := dst[:w*h]
	cbs := dst[w*h : w*h+cw*(h/2)]
	crs := dst[w*h+cw*(h/2) : w*h+2*cw*(h/2)]
	for y := 0; y < h; y += 2 {
		top := src.Pix[y*src.Stride : y*src.Stride+4*w]
		bot := src.Pix[(y+1)*src.Stride : (y+1)*src.Stride+4*w]
		y0 := ys[y*w : y*w+w]
		y1 := ys[(y+1)*w : (y+1)*w+w]
		cb := cbs[(y/2)*cw : (y/2)*cw+cw]
		cr := crs[(y/2)*cw : (y/2)*cw+cw]
		for x := range cw {
			// Two pixels of each row at once, as little-endian RGBA pairs.
			a := binary.LittleEndian.Uint64(top[8*x:])
			b := binary.LittleEndian.Uint64(bot[8*x:])
			r0, g0, b0 := int32(a&0xff), int32(a>>8&0xff), int32(a>>16&0xff)
			r1, g1, b1 := int32(a>>32&0xff), int32(a>>40&0xff), int32(a>>48&0xff)
			r2, g2, b2 := int32(b&0xff), int32(b>>8&0xff), int32(b>>16&0xff)
			r3, g3, b3 := int32(b>>32&0xff), int32(b>>40&0xff), int32(b>>48&0xff)
			const yBias = 16<<16 + 1<<15
			binary.LittleEndian.PutUint16(y0[2*x:], uint16((yR*r0+yG*g0+yB*b0+yBias)>>16)|
				uint16((yR*r1+yG*g1+yB*b1+yBias)>>16)<<8)
			binary.LittleEndian.PutUint16(y1[2*x:], uint16((yR*r2+yG*g2+yB*b2+yBias)>>16)|
				uint16((yR*r3+yG*g3+yB*b3+yBias)>>16)<<8)
			// The sums of four pixels carry two more bits.
			sr, sg, sb := r0+r1+r2+r3, g0+g1+g2+g3, b0+b1+b2+b3
			const cBias = 128<<18 + 1<<17
			cb[x] = uint8((cbR*sr + cbG*sg + cbB*sb + cBias) >> 18)
			cr[x] = uint8((crR*sr + crG*sg + crB*sb + cBias) >> 18)
		}
	}
}
