package lipsync

import (
	"context"
	"math"
	"time"

	"stillmotion/internal/face"
	"stillmotion/internal/media"
)

// MouthTrack tracks the face through the video at path and returns where
// the track puts the reference frame's mouth centre (the middle of its
// corners) on every frame, in full-size pixels, and whether the face was
// tracked there: the tracker's output, for tests outside the package.
func MouthTrack(ctx context.Context, path string) ([]face.Point, []bool, error) {
	info, err := media.ProbeVideo(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	fps := outputFPS(info.FPS)
	tr, err := trackFace(ctx, path, info, fps, int(math.Round(info.Duration*float64(fps))), 30*time.Second, "", func(float64) {})
	if err != nil {
		return nil, nil, err
	}
	up := scaling(1/tr.sx, 1/tr.sy)
	mouth := tr.face.MouthLeft.Mid(tr.face.MouthRight)
	pts := make([]face.Point, len(tr.warps))
	for i, w := range tr.warps {
		pts[i] = w.then(up).apply(mouth)
	}
	return pts, tr.ok, nil
}
