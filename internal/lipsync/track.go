package lipsync

import (
	"context"
	"image"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"stillmotion/internal/face"
	"stillmotion/internal/fault"
	"stillmotion/internal/media"
)

// NoFace is the message of the error for a video without a face to
// re-voice.
const NoFace = "no face found in the video; lip-sync needs a visible face, turned toward the camera"

// analysisSide is the short side, in pixels, of the reduced grey copy of
// the video that the face is found and tracked in. The detector works at
// 640 at most; 480 keeps decoding and tracking cheap, and a face too small
// to find at 480 pixels has a mouth too small to animate anyway.
const analysisSide = 480

// detectionsPerSecond is how often the detector looks for the face. It
// runs on every few frames only, as it is slow (some 30 ms a frame) and its
// landmarks jitter; the tracker follows the face in between, and through
// the frames where the detector misses it.
const detectionsPerSecond = 3

// minNCC is the normalized cross-correlation under which the tracked face
// no longer matches the face: it has turned away, is covered, or is gone.
const minNCC = 0.55

// faceTrack is where the face is on every frame of the video, in the
// reduced copy's pixels.
type faceTrack struct {
	w, h   int     // the reduced copy's size
	sx, sy float64 // reduced pixels per video pixel, in x and y
	// ref is the frame the face was seen best on, and face the face there
	// (its landmarks averaged over every detection, mapped there).
	ref  int
	face face.Face
	// warps map ref's pixels to each frame's; ok says whether the face was
	// tracked there, and ncc how well it matched.
	warps []affine
	ok    []bool
	ncc   []float64
	// open is how open the mouth is on each frame: the darker part of the
	// lips' box (0 closed, up to 1).
	open []float64
}

// analysisBudget bounds the memory the reduced grey copy may take to be
// kept between the two passes, which saves decoding it again: 96 MB holds
// 8 seconds of 1080p at 24 frames a second, reduced to 854x480.
const analysisBudget = 96 << 20

// trackFace finds the face in the video and follows it through every
// frame, in two passes over a reduced grey copy: the first detects the
// face every few frames and picks the frame where it is clearest (the
// detector's highest score) as the reference; the second tracks the upper
// face from the reference through every frame with Lucas-Kanade, checked
// against the detections, and measures the mouth's opening. The second
// pass reads the copy kept by the first when it fits in analysisBudget,
// and decodes it again otherwise. frames is the number of frames
// expected, for progress, which gets values from 0 to 1; a video longer
// than limit is refused, whatever its headers said.
func trackFace(ctx context.Context, video string, info media.VideoInfo, fps, frames int, limit time.Duration, program string, progress func(float64)) (*faceTrack, error) {
	maxFrames := int(math.Floor((limit + durationSlack).Seconds() * float64(fps)))
	vw, vh := info.EvenSize()
	s := min(1, analysisSide/float64(min(vw, vh)))
	w, h := max(2, int(math.Round(float64(vw)*s/2))*2), max(2, int(math.Round(float64(vh)*s/2))*2)
	tr := &faceTrack{w: w, h: h, sx: float64(w) / float64(vw), sy: float64(h) / float64(vh)}
	opt := media.DecodeOptions{FPS: fps, Width: w, Height: h, Gray: true, Demuxer: info.Demuxer, Program: program}

	kept, dets, n, err := detectFaces(ctx, video, opt, frames, maxFrames, limit, func(p float64) { progress(0.5 * p) })
	if err != nil {
		return nil, err
	}
	if len(dets) == 0 {
		return nil, fault.E(fault.Rejected, NoFace)
	}
	// The clearest face is the reference.
	best := dets[slices.IndexFunc(dets, func(d detection) bool { return d.pix != nil })]
	tr.ref = best.frame
	refFace := best.faces[0]
	tmpl := newTemplate(pyramidOf(best.pix, w, h), refFace)
	tr.warps = make([]affine, n)
	tr.ok = make([]bool, n)
	tr.ncc = make([]float64, n)
	tr.open = make([]float64, n)
	from, weights := landmarks(refFace)
	eyes := refFace.LeftEye.Mid(refFace.RightEye)
	// guessAt returns the map from the reference to frame i that the
	// nearest detection gives, and that detection's frame. Of the faces
	// found there, it takes the one nearest to where near puts the
	// reference's, so that in a video of several people the track stays
	// with one.
	guessAt := func(i int, near affine) (affine, int) {
		k, _ := slices.BinarySearchFunc(dets, i, func(d detection, i int) int { return d.frame - i })
		if k == len(dets) || k > 0 && i-dets[k-1].frame < dets[k].frame-i {
			k--
		}
		to, _ := landmarks(dets[k].nearest(near.apply(eyes)))
		return fitSimilarity(from, to, weights), dets[k].frame
	}
	d := refFace.LeftEye.Dist(refFace.RightEye)
	last := identity // the last frame's map that matched
	var prev, prev2 affine
	havePrev := 0
	track := func(i int, pix []byte) error {
		if i >= n {
			return nil
		}
		progress(0.5 + 0.5*float64(i+1)/float64(n))
		p := pyramidOf(pix, w, h)
		var guess affine
		switch havePrev {
		case 0:
			guess, _ = guessAt(i, last)
		case 1:
			guess = prev
		default:
			// Constant velocity: the head and the camera move smoothly.
			guess = prev
			for k := range guess {
				guess[k] += prev[k] - prev2[k]
			}
		}
		a, ncc := tmpl.align(p, guess)
		// Where the detector saw the face the track must agree with it;
		// when it does not, or the match is poor, it starts again from
		// the nearest detection.
		if g, at := guessAt(i, a); ncc < minNCC || at == i && g.apply(eyes).Dist(a.apply(eyes)) > 0.25*d*g.scale() {
			if b, nb := tmpl.align(p, g); nb > ncc {
				a, ncc = b, nb
			}
		}
		tr.warps[i], tr.ncc[i] = a, ncc
		if ncc >= minNCC && sane(a, w, h, refFace) {
			tr.ok[i] = true
			tr.open[i] = mouthOpening(refFace, a, w, h, pix)
			prev2, prev, last = prev, a, a
			havePrev = min(havePrev+1, 2)
		} else {
			havePrev = 0
		}
		return nil
	}
	if kept != nil {
		for i, pix := range kept {
			if err := ctx.Err(); err != nil {
				return nil, contextFault(err)
			}
			track(i, pix)
			kept[i] = nil // for the collector
		}
	} else if _, err := media.DecodeFrames(ctx, video, opt, track); err != nil {
		return nil, err
	}
	tr.smooth(fps)
	tr.face = averageFace(refFace, dets, tr)
	return tr, nil
}

// detection is the faces found on one frame of the reduced copy, the
// most prominent first (see face.Detect).
type detection struct {
	frame int
	faces []face.Face
	pix   []byte // the frame, kept for the clearest face's only
}

// score is how clearly the detection shows its most prominent face: the
// detector's score, a quarter of it when the landmarks were guessed.
func (d detection) score() float64 {
	if d.faces[0].Guessed {
		return d.faces[0].Score / 4
	}
	return d.faces[0].Score
}

// nearest returns the face whose eyes are nearest to p.
func (d detection) nearest(p face.Point) face.Face {
	best := d.faces[0]
	for _, f := range d.faces[1:] {
		if f.LeftEye.Mid(f.RightEye).Dist(p) < best.LeftEye.Mid(best.RightEye).Dist(p) {
			best = f
		}
	}
	return best
}

// detectFaces decodes the reduced grey copy opt describes and detects the
// face on detectionsPerSecond of its frames, on several cores while ffmpeg
// decodes. It returns, when they fit in analysisBudget, the frames, and
// the detections in frame order (the clearest face's with its frame) and
// the number of frames. A video of
// more than maxFrames frames is refused as longer than limit.
func detectFaces(ctx context.Context, video string, opt media.DecodeOptions, frames, maxFrames int, limit time.Duration,
	progress func(float64)) ([][]byte, []detection, int, error) {
	every := max(1, int(math.Round(float64(opt.FPS)/detectionsPerSecond)))
	keep := frames*opt.FrameBytes() <= analysisBudget
	var kept [][]byte
	type job struct {
		frame int
		pix   []byte
	}
	jobs := make(chan job, runtime.GOMAXPROCS(0))
	var mu sync.Mutex
	var dets []detection
	best := -1 // the detection with the clearest face
	g, gctx := errgroup.WithContext(ctx)
	for range runtime.GOMAXPROCS(0) {
		g.Go(func() error {
			for j := range jobs {
				img := &image.Gray{Pix: j.pix, Stride: opt.Width, Rect: image.Rect(0, 0, opt.Width, opt.Height)}
				faces, err := face.Detect(img)
				if err != nil {
					return fault.Wrap(fault.Internal, "detecting the face failed", err)
				}
				if len(faces) > 0 {
					mu.Lock()
					d := detection{frame: j.frame, faces: faces, pix: j.pix}
					// Only the clearest face's frame is kept: it is the
					// reference.
					if best < 0 || d.score() > dets[best].score() || d.score() == dets[best].score() && d.frame < dets[best].frame {
						if best >= 0 {
							dets[best].pix = nil
						}
						best = len(dets)
					} else {
						d.pix = nil
					}
					dets = append(dets, d)
					mu.Unlock()
				}
			}
			return nil
		})
	}
	n := 0
	g.Go(func() error {
		defer close(jobs)
		var err error
		n, err = media.DecodeFrames(gctx, video, opt, func(i int, pix []byte) error {
			if i >= maxFrames {
				return fault.Errorf(fault.Invalid, "the video lasts more than %s; lip-sync takes videos of up to %s", seconds(limit), seconds(limit))
			}
			if frames > 0 {
				progress(min(1, float64(i+1)/float64(frames)))
			}
			var c []byte
			if keep = keep && (len(kept)+1)*len(pix) <= analysisBudget; keep {
				c = slices.Clone(pix)
				kept = append(kept, c)
			} else {
				kept = nil
			}
			if i%every != 0 {
				return nil
			}
			if c == nil {
				c = slices.Clone(pix)
			}
			select {
			case jobs <- job{i, c}:
				return nil
			case <-gctx.Done():
				return gctx.Err()
			}
		})
		if err == nil && n == 0 {
			err = fault.E(fault.Invalid, "the video has no frames")
		}
		return err
	})
	if err := g.Wait(); err != nil {
		if ctx.Err() != nil {
			return nil, nil, 0, contextFault(ctx.Err())
		}
		return nil, nil, 0, err
	}
	slices.SortFunc(dets, func(a, b detection) int { return a.frame - b.frame })
	return kept, dets, n, nil
}

// sane reports whether the map a from the reference face f keeps the face
// a plausible size and mostly inside the frame.
func sane(a affine, w, h int, f face.Face) bool {
	s := a.scale()
	if s < 0.4 || s > 2.5 || math.IsNaN(s) {
		return false
	}
	m := a.apply(f.MouthLeft.Mid(f.MouthRight))
	e := a.apply(f.LeftEye.Mid(f.RightEye))
	return m.X > 0 && m.Y > 0 && m.X < float64(w) && m.Y < float64(h) && e.X > 0 && e.Y > 0 && e.X < float64(w) && e.Y < float64(h)
}

// smooth filters the track over time with a Gaussian of a thirtieth of a
// second (a frame at 30 fps) on each side, within each run of tracked
// frames: Lucas-Kanade is accurate to a fraction of a pixel, but that
// fraction changes from frame to frame, which shows as a shiver of the
// pasted mouth. The similarities are averaged as matrices, which for
// nearby similarities is the similarity of the averaged motion.
func (tr *faceTrack) smooth(fps int) {
	sigma := max(0.6, float64(fps)/30)
	r := int(math.Ceil(2.5 * sigma))
	kernel := make([]float64, 2*r+1)
	for k := range kernel {
		x := float64(k-r) / sigma
		kernel[k] = math.Exp(-x * x / 2)
	}
	out := make([]affine, len(tr.warps))
	for i := range tr.warps {
		out[i] = tr.warps[i]
		if !tr.ok[i] {
			continue
		}
		var sum affine
		var sw float64
		for k := -r; k <= r; k++ {
			j := i + k
			if j < 0 || j >= len(tr.warps) || !tr.ok[j] {
				continue
			}
			w := kernel[k+r]
			for c := range sum {
				sum[c] += w * tr.warps[j][c]
			}
			sw += w
		}
		for c := range sum {
			out[i][c] = sum[c] / sw
		}
	}
	tr.warps = out
}

// averageFace returns the reference face with its landmarks replaced by
// their median over every detection on a tracked frame, mapped back to the
// reference: one detection's landmarks are off by a few pixels, in a
// different direction on every frame.
func averageFace(ref face.Face, dets []detection, tr *faceTrack) face.Face {
	var pts [4][]face.Point
	eyes := ref.LeftEye.Mid(ref.RightEye)
	for _, d := range dets {
		if !tr.ok[d.frame] {
			continue
		}
		g := d.nearest(tr.warps[d.frame].apply(eyes))
		if g.Guessed {
			continue
		}
		f := g.Map(tr.warps[d.frame].inverse().apply)
		if f.LeftEye.Mid(f.RightEye).Dist(eyes) > 0.2*ref.LeftEye.Dist(ref.RightEye) {
			continue // another face, or a poor detection
		}
		for k, p := range []face.Point{f.LeftEye, f.RightEye, f.MouthLeft, f.MouthRight} {
			pts[k] = append(pts[k], p)
		}
	}
	if len(pts[0]) < 3 {
		return ref
	}
	mid := func(ps []face.Point) face.Point {
		xs, ys := make([]float64, len(ps)), make([]float64, len(ps))
		for i, p := range ps {
			xs[i], ys[i] = p.X, p.Y
		}
		return face.Point{X: median(xs), Y: median(ys)}
	}
	f := ref
	f.LeftEye, f.RightEye = mid(pts[0]), mid(pts[1])
	f.MouthLeft, f.MouthRight = mid(pts[2]), mid(pts[3])
	// The lips move with the old speech: their medians are the mouth half
	// open; the reference frame's own are kept.
	return f
}

// mouthOpening measures how open the mouth of face f (in the reference's
// pixels) is in the frame pix (w x h luma) where the map a takes it: the
// part of the box between the mouth corners, from just above the upper lip
// to just below the lower, that is darker than half the skin above the
// lip, counted softly.
func mouthOpening(f face.Face, a affine, w, h int, pix []byte) float64 {
	half := f.MouthLeft.Dist(f.MouthRight) / 2
	o := f.MouthLeft.Mid(f.MouthRight)
	ex := f.MouthRight.Sub(f.MouthLeft).Mul(1 / (2 * half))
	ey := face.Point{X: -ex.Y, Y: ex.X}
	lum := func(u, v float64) (float64, bool) {
		q := a.apply(o.Add(ex.Mul(u)).Add(ey.Mul(v)))
		x, y := int(q.X), int(q.Y)
		if x < 0 || y < 0 || x >= w || y >= h {
			return 0, false
		}
		return float64(pix[y*w+x]), true
	}
	var skin []float64
	for k := -4; k <= 4; k++ {
		if l, ok := lum(float64(k)*0.12*half, -0.75*half); ok {
			skin = append(skin, l)
		}
	}
	if len(skin) == 0 {
		return 0
	}
	dark := 0.5 * median(skin)
	var sum float64
	n := 0
	for v := -0.35; v <= 0.6; v += 0.05 {
		for u := -0.6; u <= 0.6; u += 0.06 {
			l, ok := lum(u*half, v*half)
			if !ok {
				continue
			}
			sum += min(max((dark-l)/(0.15*dark+1)+0.5, 0), 1)
			n++
		}
	}
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}
