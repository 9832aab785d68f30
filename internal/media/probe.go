package media

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"

	"stillmotion/internal/fault"
)

// Info is what Probe reports about a video file.
type Info struct {
	Width, Height int
	Duration      float64 // seconds, of the whole file
	FPS           float64 // the video's average frame rate
	VideoCodec    string  // such as "h264"
	PixFmt        string  // such as "yuv420p"
	HasAudio      bool
	AudioCodec    string // such as "aac"; "" without audio
	AudioRate     int    // samples per second; 0 without audio
	Frames        int    // video frames, as the container counts them
}

// Probe runs ffprobe (from the PATH) on the file at path and reports its
// first video and audio streams. It reads the container's headers only,
// so it is fast. Errors are faults of kind Render, or Cancelled or
// Timeout when ctx ends.
func Probe(ctx context.Context, path string) (Info, error) {
	return probe(ctx, path, false)
}

// probe is Probe; with count it decodes the whole video to count its
// frames instead of trusting the container.
func probe(ctx context.Context, path string, count bool) (Info, error) {
	program, err := exec.LookPath("ffprobe")
	if err != nil {
		return Info{}, fault.Wrap(fault.Render, "ffprobe not found; install it with: apt-get install ffmpeg", err)
	}
	args := []string{"-v", "error", "-of", "json",
		"-show_entries", "format=duration:stream=codec_type,codec_name,width,height,pix_fmt,avg_frame_rate,sample_rate,nb_frames,nb_read_frames"}
	if count {
		args = append(args, "-count_frames")
	}
	cmd := exec.CommandContext(ctx, program, append(args, path)...)
	var stderr tail
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return Info{}, contextFault(ctx.Err())
	}
	if err != nil {
		return Info{}, fault.Wrap(fault.Render, "could not read the video file", fmt.Errorf("ffprobe %s: %w: %s", path, err, stderr.lines(5)))
	}
	var res probeOutput
	if err := json.Unmarshal(out, &res); err != nil {
		return Info{}, fault.Wrap(fault.Render, "could not read the video file", fmt.Errorf("ffprobe %s: %w", path, err))
	}
	var info Info
	info.Duration, _ = strconv.ParseFloat(res.Format.Duration, 64)
	video := false
	for _, s := range res.Streams {
		switch {
		case s.CodecType == "video" && !video:
			video = true
			info.Width, info.Height = s.Width, s.Height
			info.VideoCodec, info.PixFmt = s.CodecName, s.PixFmt
			info.FPS = rate(s.AvgFrameRate)
			info.Frames, _ = strconv.Atoi(s.NbFrames)
			if count {
				info.Frames, _ = strconv.Atoi(s.NbReadFrames)
			}
		case s.CodecType == "audio" && !info.HasAudio:
			info.HasAudio = true
			info.AudioCodec = s.CodecName
			info.AudioRate, _ = strconv.Atoi(s.SampleRate)
		}
	}
	if !video {
		return info, fault.Wrap(fault.Render, "could not read the video file", fmt.Errorf("ffprobe %s: no video stream", path))
	}
	return info, nil
}

// rate parses a frame rate such as "24/1".
func rate(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0
	}
	if !ok {
		return n
	}
	d, err := strconv.ParseFloat(den, 64)
	if err != nil || d == 0 {
		return 0
	}
	return n / d
}
