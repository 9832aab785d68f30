// Package face finds faces in a still image and the landmarks a talking
// portrait needs: the pupils, the mouth corners and the top and bottom of
// the lips. It uses pigo's pixel-intensity-comparison cascades (pure Go),
// embedded in the binary, and is deterministic: the same image gives the
// same faces, to the bit.
package face

import (
	"cmp"
	"image"
	"math"
	"slices"

	pigo "github.com/esimov/pigo/core"
)

// Point is a position in an image's pixel coordinates: (0, 0) is the
// top-left corner of the top-left pixel, so a pixel's centre is at +0.5.
type Point struct{ X, Y float64 }

// Add returns p+q.
func (p Point) Add(q Point) Point { return Point{p.X + q.X, p.Y + q.Y} }

// Sub returns p-q.
func (p Point) Sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y} }

// Mul returns p scaled by k.
func (p Point) Mul(k float64) Point { return Point{p.X * k, p.Y * k} }

// Dist returns the distance between p and q.
func (p Point) Dist(q Point) float64 { return math.Hypot(p.X-q.X, p.Y-q.Y) }

// Mid returns the point halfway between p and q.
func (p Point) Mid(q Point) Point { return Point{(p.X + q.X) / 2, (p.Y + q.Y) / 2} }

// Face is one face found in an image, in the image's pixel coordinates.
// Left and right are as seen in the image, not the person's own.
type Face struct {
	// Center and Size give the detector's square around the face, which
	// spans about brow to chin.
	Center Point
	Size   float64
	// Score is the detector's confidence: above 5 a likely face, above 30
	// a clear frontal one.
	Score float64

	LeftEye, RightEye     Point // pupil centres
	MouthLeft, MouthRight Point // mouth corners
	LipTop                Point // the top edge of the upper lip, mid-mouth
	LipBottom             Point // the bottom edge of the lower lip, mid-mouth

	// Guessed is true when the landmarks did not agree with each other
	// and were replaced by the proportions of an average face in the
	// detector's square.
	Guessed bool
}

// Rect returns the detector's square, rounded out to whole pixels.
func (f Face) Rect() image.Rectangle {
	h := f.Size / 2
	return image.Rect(int(math.Floor(f.Center.X-h)), int(math.Floor(f.Center.Y-h)),
		int(math.Ceil(f.Center.X+h)), int(math.Ceil(f.Center.Y+h)))
}

// Map returns f with every point mapped by m, which should be a similarity
// (a scale and a shift, as from an image to a resized crop of it); Size is
// scaled by the change in the eyes' distance.
func (f Face) Map(m func(Point) Point) Face {
	d0 := f.LeftEye.Dist(f.RightEye)
	f.Center = m(f.Center)
	for _, p := range []*Point{&f.LeftEye, &f.RightEye, &f.MouthLeft, &f.MouthRight, &f.LipTop, &f.LipBottom} {
		*p = m(*p)
	}
	if d0 > 0 {
		f.Size *= f.LeftEye.Dist(f.RightEye) / d0
	}
	return f
}

// minScore is the detector score below which a detection is not a face.
// pigo's own tools use 5; real faces in portraits score 30 to 100, and
// textures that fool the cascade rarely pass 3.
const minScore = 5

// minFace is the smallest face Detect looks for, as a part of the image's
// short side: a smaller face's mouth is too small to animate anyway.
const minFace = 0.08

// Detect returns the faces in img, the one that speaks first: the most
// prominent, by size and closeness to the centre of the image. Faces turned
// far from the camera, or smaller than 8% of the image's short side, are
// not found. It returns no faces and no error for an image without a face;
// an error means the embedded cascades are damaged (a bug).
//
// Detection runs on a reduced copy whose short side is at most 640 pixels;
// it takes 30 to 90 ms on one core.
func Detect(img image.Image) ([]Face, error) {
	c, err := load()
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	if b.Dx() < 16 || b.Dy() < 16 {
		return nil, nil
	}
	g, k := grayOf(img)
	short := min(g.w, g.h)
	params := pigo.CascadeParams{
		MinSize:     max(20, int(minFace*float64(short))),
		MaxSize:     short,
		ShiftFactor: 0.1,
		ScaleFactor: 1.1,
		ImageParams: pigo.ImageParams{Pixels: g.pix, Rows: g.h, Cols: g.w, Dim: g.w},
	}
	dets := c.face.RunCascade(params, 0)
	dets = c.face.ClusterDetections(dets, 0.2)

	// The clusters can nest (a face at two scales); keep the stronger.
	slices.SortStableFunc(dets, func(a, b pigo.Detection) int { return cmp.Compare(b.Q, a.Q) })
	var faces []Face
	for _, d := range dets {
		if d.Q < minScore {
			continue
		}
		ctr := Point{float64(d.Col), float64(d.Row)}
		inside := false
		for _, f := range faces {
			if math.Abs(f.Center.X-ctr.X) < f.Size/2 && math.Abs(f.Center.Y-ctr.Y) < f.Size/2 {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		f := c.landmarks(g, Face{Center: ctr, Size: float64(d.Scale), Score: float64(d.Q)})
		faces = append(faces, f)
	}

	// Back to the image's coordinates: a working pixel covers k x k input
	// pixels, and the cascades answer in whole working pixels, whose
	// centre is +0.5.
	sk := float64(k)
	for i, f := range faces {
		faces[i] = f.Map(func(p Point) Point {
			return Point{float64(b.Min.X) + (p.X+0.5)*sk, float64(b.Min.Y) + (p.Y+0.5)*sk}
		})
	}
	ctr := Point{float64(b.Min.X+b.Max.X) / 2, float64(b.Min.Y+b.Max.Y) / 2}
	half := math.Hypot(float64(b.Dx()), float64(b.Dy())) / 2
	prominence := func(f Face) float64 {
		// A face at a corner counts half its size: the larger face wins
		// unless it is much further from the centre.
		return f.Size * (1 - 0.5*min(1, f.Center.Dist(ctr)/half))
	}
	slices.SortStableFunc(faces, func(a, b Face) int { return cmp.Compare(prominence(b), prominence(a)) })
	return faces, nil
}

// landmarks finds f's pupils and mouth in g, all in g's pixels. The first
// guesses come from the detector's square, in the proportions pigo's tools
// use; when the answers contradict each other (eyes not side by side, a
// mouth not below them, lips upside down), the proportions stand instead.
func (c *cascades) landmarks(g *gray, f Face) Face {
	s := f.Size
	f.LeftEye = c.pupil.locate(g, Point{f.Center.X - 0.175*s, f.Center.Y - 0.075*s}, 0.25*s, false)
	f.RightEye = c.pupil.locate(g, Point{f.Center.X + 0.185*s, f.Center.Y - 0.075*s}, 0.25*s, false)

	// The lip cascades start from a point below the eyes' middle, at a
	// scale of three eye distances, as pigo's GetLandmarkPoint does.
	eyes := f.LeftEye.Mid(f.RightEye)
	d := f.LeftEye.Dist(f.RightEye)
	start := Point{eyes.X + 0.15*d, eyes.Y + 0.25*d}
	f.MouthLeft = c.mouthCorner.locate(g, start, 3*d, false)
	f.MouthRight = c.mouthCorner.locate(g, start, 3*d, true)
	if f.MouthLeft.X > f.MouthRight.X {
		f.MouthLeft, f.MouthRight = f.MouthRight, f.MouthLeft
	}
	// The lip cascades are symmetric: average a run and its mirror.
	f.LipTop = c.lipTop.locate(g, start, 3*d, false).Mid(c.lipTop.locate(g, start, 3*d, true))
	f.LipBottom = c.lipBottom.locate(g, start, 3*d, false).Mid(c.lipBottom.locate(g, start, 3*d, true))
	if !plausible(f) {
		f = guess(f)
	}
	return f
}

// plausible reports whether f's landmarks make a face: the eyes side by side
// at a sensible distance inside the square, the mouth centred below them
// with its corners level, and the lips the right way up.
func plausible(f Face) bool {
	s := f.Size
	d := f.RightEye.X - f.LeftEye.X
	if d < 0.2*s || d > 0.65*s || math.Abs(f.RightEye.Y-f.LeftEye.Y) > 0.35*d {
		return false
	}
	eyes := f.LeftEye.Mid(f.RightEye)
	if eyes.Dist(f.Center) > 0.35*s {
		return false
	}
	mouth := f.MouthLeft.Mid(f.MouthRight)
	w := f.MouthRight.X - f.MouthLeft.X
	down := mouth.Y - eyes.Y
	switch {
	case w < 0.45*d || w > 1.4*d:
		return false
	case down < 0.6*d || down > 1.6*d:
		return false
	case math.Abs(mouth.X-eyes.X) > 0.35*d:
		return false
	case math.Abs(f.MouthRight.Y-f.MouthLeft.Y) > 0.3*w:
		return false
	}
	lips := f.LipBottom.Y - f.LipTop.Y
	return lips > 0.1*w && lips < 0.9*w &&
		f.LipTop.Y < mouth.Y+0.1*w && f.LipBottom.Y > mouth.Y-0.1*w
}

// guess places the landmarks in the proportions of an average frontal face
// in f's square, keeping the eyes when they are plausible on their own.
func guess(f Face) Face {
	s := f.Size
	d := f.RightEye.X - f.LeftEye.X
	if d < 0.2*s || d > 0.65*s || math.Abs(f.RightEye.Y-f.LeftEye.Y) > 0.35*d || f.LeftEye.Mid(f.RightEye).Dist(f.Center) > 0.35*s {
		f.LeftEye = Point{f.Center.X - 0.18*s, f.Center.Y - 0.08*s}
		f.RightEye = Point{f.Center.X + 0.18*s, f.Center.Y - 0.08*s}
		d = 0.36 * s
	}
	eyes := f.LeftEye.Mid(f.RightEye)
	mouth := Point{eyes.X, eyes.Y + 1.0*d}
	f.MouthLeft = Point{mouth.X - 0.42*d, mouth.Y}
	f.MouthRight = Point{mouth.X + 0.42*d, mouth.Y}
	f.LipTop = Point{mouth.X, mouth.Y - 0.14*d}
	f.LipBottom = Point{mouth.X, mouth.Y + 0.2*d}
	f.Guessed = true
	return f
}
