// Package media turns frames and audio into an MP4 file (H.264 and AAC)
// through the ffmpeg program, and reads video files back with ffprobe.
//
// The Go binary stays pure Go: ffmpeg runs as a child process fed raw
// planar YUV 4:2:0 frames on its standard input, converted from the drawn
// RGBA in Go. The output is bit-exact: the same frames and audio give a
// byte-identical file with the same ffmpeg build.
package media

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"stillmotion/internal/fault"
)

// Spec describes the output.
type Spec struct {
	Width, Height int    // the frame size; both even, as 4:2:0 chroma requires
	FPS           int    // frames per second; 0 means 24
	Frames        int    // the number of frames; the video has exactly this many
	AudioWAV      string // a WAV file, padded with silence or cut to Frames/FPS; "" means a silent track
	NoAudio       bool   // no audio stream at all (AudioWAV is then ignored)
	Program       string // the ffmpeg program; "" means "ffmpeg" on the PATH
	// Nice is the niceness ffmpeg and the threads drawing the frames run
	// at, 0..19 (Linux): above 0, the render yields the CPU to the rest of
	// the machine (an API serving polls) when it is busy. 0 is this
	// process's.
	Nice int
}

// FrameFunc draws frame i into dst, setting every pixel. It is called from
// several goroutines at once, each with its own dst; a dst is reused for
// that goroutine's next frame once its pixels have been converted for the
// encoder.
type FrameFunc func(i int, dst *image.RGBA)

// encoderThreads is the fixed number of threads x264 uses. The thread count
// changes x264's output, so it is a constant rather than the number of CPUs,
// which keeps files byte-identical across machines. Three threads keep two
// cores busy while the frames are drawn alongside.
const encoderThreads = 3

// notFound is the client message when ffmpeg is missing.
const notFound = "ffmpeg not found; install it with: apt-get install ffmpeg"

// Encode draws spec.Frames frames with frame and encodes them, with the
// audio, into an MP4 file at out: H.264 (libx264, preset veryfast, CRF 20,
// yuv420p) and AAC (128 kb/s, 48 kHz), with the index at the front for
// streaming (faststart), and bit-exact flags and no metadata so that the
// same input gives a byte-identical file.
//
// Frames are drawn in parallel, at niceness spec.Nice, by at most
// GOMAXPROCS goroutines (or the process's limit, see LimitDrawing), at
// most a small window of frames ahead of the one being written, in
// buffers that are reused: memory does not grow with the number of
// frames. They are streamed in order to ffmpeg's standard input. progress, if not nil, is
// called with the number of frames written so far after each one.
//
// The file appears at out only when complete: ffmpeg writes a temporary
// file in the same directory, which is renamed on success and removed on
// failure. Cancelling ctx kills ffmpeg at once and returns a fault of kind
// Cancelled, or Timeout when ctx's deadline passed. A failure of ffmpeg is a
// fault of kind Render carrying the end of ffmpeg's error output in Err;
// a missing ffmpeg is a Render fault that says how to install it.
func Encode(ctx context.Context, spec Spec, frame FrameFunc, out string, progress func(done, total int)) (err error) {
	spec.FPS = cmp.Or(spec.FPS, 24)
	if spec.Width <= 0 || spec.Height <= 0 || spec.Width%2 != 0 || spec.Height%2 != 0 || spec.Frames <= 0 || spec.FPS < 0 {
		return &fault.Error{Kind: fault.Internal, Err: fmt.Errorf("media: invalid spec %dx%d, %d frames at %d fps", spec.Width, spec.Height, spec.Frames, spec.FPS)}
	}
	if err := ctx.Err(); err != nil {
		return contextFault(err)
	}
	program, err := exec.LookPath(cmp.Or(spec.Program, "ffmpeg"))
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

	cmd := exec.CommandContext(ctx, program, encodeArgs(spec, tmp)...)
	cmd.WaitDelay = 5 * time.Second // stop waiting for output a killed ffmpeg may not close
	var stderr tail
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fault.Wrap(fault.Render, "could not start ffmpeg", err)
	}
	if err := start(cmd, spec.Nice); err != nil {
		return fault.Wrap(fault.Render, "could not start ffmpeg", err)
	}
	werr := writeFrames(ctx, spec, frame, stdin, progress)
	stdin.Close()
	waitErr := cmd.Wait()
	if err := ctx.Err(); err != nil {
		return contextFault(err)
	}
	if waitErr != nil {
		// A write error is then most likely ffmpeg closing its input as
		// it failed; its own error output says why.
		return ffmpegFailed(waitErr, stderr.lines(12))
	}
	if werr != nil {
		return fault.Wrap(fault.Render, "encoding the video failed", fmt.Errorf("writing frames to ffmpeg: %w", werr))
	}
	return keep(tmp, out)
}

// ffmpegFailed describes ffmpeg's failure from its error output: a full
// disk is storage_full, anything else render_failed.
func ffmpegFailed(err error, stderr string) error {
	cause := fmt.Errorf("ffmpeg: %w: %s", err, stderr)
	if strings.Contains(stderr, "No space left on device") {
		return fault.Wrap(fault.StorageFull, "the server's disk filled up while encoding the video; try again later", cause)
	}
	return fault.Wrap(fault.Render, "encoding the video failed", cause)
}

// partFile returns the name of a new, empty file beside out that ffmpeg
// writes before it becomes out, so that out appears only when complete.
func partFile(out string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*.part")
	if err != nil {
		return "", fault.Wrap(fault.Render, "could not create the video file", err)
	}
	f.Close()
	return f.Name(), nil
}

// keep makes the finished part file tmp the file out.
func keep(tmp, out string) error {
	if err := os.Chmod(tmp, 0o644); err != nil {
		return fault.Wrap(fault.Render, "could not save the video file", err)
	}
	if err := os.Rename(tmp, out); err != nil {
		return fault.Wrap(fault.Render, "could not save the video file", err)
	}
	return nil
}

// encodeArgs returns ffmpeg's arguments for spec, writing to out.
func encodeArgs(spec Spec, out string) []string {
	// The audio is padded with silence and cut to the video's exact length,
	// so a short or long WAV still gives streams of equal length.
	dur := strconv.FormatFloat(float64(spec.Frames)/float64(spec.FPS), 'f', -1, 64)
	args := []string{
		"-hide_banner", "-nostats", "-loglevel", "error", "-y",
		"-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", fmt.Sprintf("%dx%d", spec.Width, spec.Height),
		"-framerate", strconv.Itoa(spec.FPS), "-i", "pipe:0",
	}
	video := []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p",
		"-threads", strconv.Itoa(encoderThreads)}
	switch {
	case spec.NoAudio:
		args = append(append(append(args, "-map", "0:v:0"), video...), "-an", "-fflags", "+bitexact", "-flags:v", "+bitexact")
		return append(args, "-map_metadata", "-1", "-movflags", "+faststart", "-f", "mp4", out)
	case spec.AudioWAV != "":
		args = append(args, "-i", spec.AudioWAV)
	default:
		args = append(args, "-f", "lavfi", "-i", "anullsrc=r=48000:cl=mono")
	}
	args = append(append(append(args, "-map", "0:v:0", "-map", "1:a:0"), video...),
		"-af", "apad=whole_dur="+dur+",atrim=end="+dur,
		"-c:a", "aac", "-b:a", "128k", "-ar", "48000")
	return append(args,
		"-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
		"-map_metadata", "-1", "-movflags", "+faststart",
		"-f", "mp4", out,
	)
}

// writeFrames draws the frames in parallel and writes their pixels to w in
// order.
func writeFrames(ctx context.Context, spec Spec, frame FrameFunc, w io.Writer, progress func(done, total int)) error {
	workers := max(1, min(drawers(), spec.Frames))
	// window bounds the frames drawn but not yet written, and so the
	// buffers alive at once: enough for every worker to run one frame
	// ahead while the writer waits for a slow one.
	window := 2 * workers
	// Each worker draws into its own RGBA frame and converts it to 4:2:0
	// there, in parallel: the pipe then carries 1.5 bytes a pixel instead
	// of 4, and ffmpeg has no conversion left to do before x264.
	pool := sync.Pool{New: func() any {
		b := make([]byte, yuv420Size(spec.Width, spec.Height))
		return &b
	}}
	// Frame i is drawn only after frame i-window was written (tokens), so
	// slot i%window is free when it is done.
	slots := make([]chan *[]byte, window)
	for i := range slots {
		slots[i] = make(chan *[]byte, 1)
	}
	tokens := make(chan struct{}, window)
	jobs := make(chan int)

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(jobs)
		for i := range spec.Frames {
			select {
			case tokens <- struct{}{}:
			case <-ctx.Done():
				return nil
			}
			select {
			case jobs <- i:
			case <-ctx.Done():
				return nil
			}
		}
		return nil
	})
	for range workers {
		g.Go(func() error {
			niceThread(spec.Nice)
			rgba := image.NewRGBA(image.Rect(0, 0, spec.Width, spec.Height))
			for i := range jobs {
				yuv := pool.Get().(*[]byte)
				inSlot(func() {
					frame(i, rgba)
					toYUV420(*yuv, rgba)
				})
				slots[i%window] <- yuv
			}
			return nil
		})
	}
	g.Go(func() error {
		for i := range spec.Frames {
			var yuv *[]byte
			select {
			case yuv = <-slots[i%window]:
			case <-ctx.Done():
				return ctx.Err()
			}
			if _, err := w.Write(*yuv); err != nil {
				return err
			}
			pool.Put(yuv)
			<-tokens
			if progress != nil {
				progress(i+1, spec.Frames)
			}
		}
		return nil
	})
	return g.Wait()
}

// contextFault maps a context's error to a fault.
func contextFault(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fault.Wrap(fault.Timeout, "the generation ran out of time", err)
	}
	return fault.Wrap(fault.Cancelled, "the generation was cancelled", err)
}

// tail is an io.Writer that keeps the last few kilobytes written to it.
type tail struct{ buf []byte }

const tailSize = 4096

func (t *tail) Write(p []byte) (int, error) {
	t.buf = append(t.buf, p...)
	if len(t.buf) > 2*tailSize {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

// lines returns the last n lines written, trimmed.
func (t *tail) lines(n int) string {
	b := bytes.TrimSpace(t.buf)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == '\n' {
			if n--; n == 0 {
				return string(b[i+1:])
			}
		}
	}
	return string(b)
}
