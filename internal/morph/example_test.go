package morph_test

import (
	"context"
	"fmt"
	"image"
	"image/color"

	"stillmotion/internal/morph"
)

// A morph between two pictures of different sizes: the second is fitted
// to the first one's frame, and the frames are drawn from t = 0 to 1.
func Example() {
	first := image.NewRGBA(image.Rect(0, 0, 160, 90))
	last := image.NewRGBA(image.Rect(0, 0, 300, 300))
	for y := range 300 {
		for x := range 300 {
			if x < 160 && y < 90 {
				first.SetRGBA(x, y, color.RGBA{uint8(x), uint8(y), 100, 255})
			}
			last.SetRGBA(x, y, color.RGBA{uint8(y), 50, uint8(x), 255})
		}
	}
	tail := morph.Fit(last, first.Rect.Dx(), first.Rect.Dy())

	m, err := morph.New(context.Background(), first, tail, morph.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	frame := image.NewRGBA(first.Rect)
	const n = 5
	for i := range n {
		m.Frame(float64(i)/(n-1), frame)
	}
	fmt.Println(tail.Rect.Dx(), tail.Rect.Dy())
	fmt.Println(frame.RGBAAt(10, 10) == tail.RGBAAt(10, 10)) // the last frame is the tail image
	// Output:
	// 160 90
	// true
}
