package media

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"time"

	"stillmotion/internal/fault"
)

// Conversion says how to turn a video made elsewhere (a remote model's
// MP4, WebM, GIF or image sequence) into the MP4 this service serves.
type Conversion struct {
	// In is what ffmpeg reads: a video file, or an image sequence pattern
	// ("frame_%05d.png") with InFPS set.
	In    string
	InFPS int
	// CopyVideo keeps the input's video stream as it is (it is H.264 in
	// 4:2:0 already) instead of encoding it again.
	CopyVideo bool
	// AudioWAV, when set, is the audio track, padded with silence or cut
	// to the video's length; the input's own audio is dropped.
	AudioWAV string
	// CopyAudio keeps the input's audio stream as it is (it is AAC); else
	// an input's audio is encoded to AAC. Ignored with AudioWAV.
	CopyAudio bool
	// Program is the ffmpeg program; "" means "ffmpeg" on the PATH.
	Program string
}

// Convert writes c's input to out as an MP4 file: H.264 (as Encode makes
// it, with odd sizes cropped to even) and AAC, index at the front. As with
// Encode, the file appears at out only when complete, and cancelling ctx
// kills ffmpeg and leaves nothing.
func Convert(ctx context.Context, c Conversion, out string) (err error) {
	program, err := exec.LookPath(cmp.Or(c.Program, "ffmpeg"))
	if err != nil {
		return fault.Wrap(fault.Render, notFound, err)
	}
	tmp, err := partFile(out)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	cmd := exec.CommandContext(ctx, program, convertArgs(c, tmp)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr tail
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	if err := ctx.Err(); err != nil {
		return contextFault(err)
	}
	if runErr != nil {
		return fault.Wrap(fault.Render, "converting the engine's video to MP4 failed", fmt.Errorf("ffmpeg: %w: %s", runErr, stderr.lines(12)))
	}
	return keep(tmp, out)
}

// convertArgs returns ffmpeg's arguments for c, writing to out.
func convertArgs(c Conversion, out string) []string {
	args := []string{"-hide_banner", "-nostats", "-loglevel", "error", "-y"}
	if c.InFPS > 0 {
		args = append(args, "-framerate", strconv.Itoa(c.InFPS))
	}
	args = append(args, "-i", c.In)
	if c.AudioWAV != "" {
		args = append(args, "-i", c.AudioWAV, "-map", "0:v:0", "-map", "1:a:0")
	} else {
		args = append(args, "-map", "0:v:0", "-map", "0:a:0?")
	}
	if c.CopyVideo {
		args = append(args, "-c:v", "copy")
	} else {
		args = append(args, "-vf", "crop=trunc(iw/2)*2:trunc(ih/2)*2,format=yuv420p",
			"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-threads", strconv.Itoa(encoderThreads))
	}
	switch {
	case c.AudioWAV != "":
		// Pad the speech with silence, and end with the picture.
		args = append(args, "-af", "apad", "-shortest", "-c:a", "aac", "-b:a", "128k", "-ar", "48000")
	case c.CopyAudio:
		args = append(args, "-c:a", "copy")
	default:
		args = append(args, "-c:a", "aac", "-b:a", "128k", "-ar", "48000")
	}
	return append(args,
		"-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
		"-map_metadata", "-1", "-movflags", "+faststart",
		"-f", "mp4", out,
	)
}
