package psnr_test

import (
	"fmt"
	"image"

	"stillmotion/internal/psnr"
)

func ExampleRGB() {
	a := image.NewRGBA(image.Rect(0, 0, 8, 8))
	b := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range a.Pix {
		a.Pix[i], b.Pix[i] = 128, 130 // every channel 2 levels off
	}
	fmt.Printf("%.1f dB\n", psnr.RGB(a, b))
	// Output: 42.1 dB
}
