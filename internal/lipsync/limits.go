package lipsync

import (
	"fmt"
	"math"
	"time"

	"stillmotion/internal/fault"
	"stillmotion/internal/media"
)

// Limits bound the videos Render takes; a zero field takes its default
// (see DefaultLimits). The fetcher bounds the file's bytes (100 MB is
// usual); Render checks the rest from the file's headers, before a frame
// is decoded.
type Limits struct {
	// MaxDuration bounds the input video's length and the output's, which
	// grows when the speech outlasts the input.
	MaxDuration time.Duration
	// MaxPixels bounds the frame's area and MaxSide its longer side:
	// 1920x1080 and 1080x1920 both pass the defaults.
	MaxPixels int
	MaxSide   int
	// MaxFPS bounds the frame rate.
	MaxFPS float64
}

// DefaultLimits are the limits a zero Limits field means: 30 seconds,
// 1920x1080 pixels (2.07 megapixels) in either orientation, 60 frames a
// second.
var DefaultLimits = Limits{
	MaxDuration: 30 * time.Second,
	MaxPixels:   1920 * 1080,
	MaxSide:     1920,
	MaxFPS:      60,
}

// withDefaults returns l with its zero fields set from DefaultLimits.
func (l Limits) withDefaults() Limits {
	if l.MaxDuration <= 0 {
		l.MaxDuration = DefaultLimits.MaxDuration
	}
	if l.MaxPixels <= 0 {
		l.MaxPixels = DefaultLimits.MaxPixels
	}
	if l.MaxSide <= 0 {
		l.MaxSide = DefaultLimits.MaxSide
	}
	if l.MaxFPS <= 0 {
		l.MaxFPS = DefaultLimits.MaxFPS
	}
	return l
}

// durationSlack is how far past MaxDuration a video may run: containers
// round, and audio priming makes a 30-second clip report 30.02 s.
const durationSlack = 100 * time.Millisecond

// Check reports whether the probed video is within l (zero fields taking
// their defaults): a fault of kind Invalid naming the field video_url,
// whose message says what the video is and what is allowed, or nil.
func (l Limits) Check(info media.VideoInfo) error {
	l = l.withDefaults()
	var msg string
	switch {
	case time.Duration(info.Duration*float64(time.Second)) > l.MaxDuration+durationSlack:
		msg = fmt.Sprintf("the video lasts %.1f s; lip-sync takes videos of up to %s", info.Duration, seconds(l.MaxDuration))
	case info.Width*info.Height > l.MaxPixels || max(info.Width, info.Height) > l.MaxSide:
		msg = fmt.Sprintf("the video is %dx%d pixels; lip-sync takes videos of up to %.1f megapixels with no side over %d pixels",
			info.Width, info.Height, float64(l.MaxPixels)/1e6, l.MaxSide)
		if l.MaxPixels == DefaultLimits.MaxPixels && l.MaxSide == DefaultLimits.MaxSide {
			msg += " (1920x1080 or 1080x1920)"
		}
	case info.FPS > l.MaxFPS+0.01:
		msg = fmt.Sprintf("the video runs at %s frames a second; lip-sync takes up to %s", strip(info.FPS), strip(l.MaxFPS))
	default:
		return nil
	}
	return &fault.Error{Kind: fault.Invalid, Message: msg, Fields: []fault.FieldError{{Field: VideoField, Message: msg}}}
}

// VideoField is the request field that names the video.
const VideoField = "video_url"

// seconds formats d as "30 s" or "7.5 s".
func seconds(d time.Duration) string { return strip(d.Seconds()) + " s" }

// strip formats x with at most two decimals and no trailing zeros.
func strip(x float64) string {
	if x == math.Trunc(x) {
		return fmt.Sprintf("%.0f", x)
	}
	s := fmt.Sprintf("%.2f", x)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	return s
}
