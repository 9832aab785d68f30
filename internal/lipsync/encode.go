package lipsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"sync"

	"stillmotion/internal/fault"
	"stillmotion/internal/media"
)

// encode writes the timeline's frames to out, each the input's frame from
// frames (as the timeline orders them) with draw applied, and the WAV file
// wav as the sound. The input is decoded as the encoder asks for frames,
// in order, so only the encoder's few frames in flight are in memory; the
// frames a bounce plays back are kept in a file in the meantime (see
// feeder).
func encode(ctx context.Context, frames *media.Frames, tl timeline, opt Options, wav, out string,
	draw func(i int, dst *image.RGBA), progress func(float64)) error {
	w, h := frames.Size()
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &feeder{tl: tl, frames: frames, size: 4 * w * h, cancel: cancel}
	f.turn = sync.NewCond(&f.mu)
	if tl.frames > tl.input {
		sp, err := os.CreateTemp(cmp.Or(opt.TempDir, os.TempDir()), "stillmotion-bounce-*.rgba")
		if err != nil {
			return fault.Wrap(fault.Internal, "creating the file for the frames played back", err)
		}
		defer func() {
			sp.Close()
			os.Remove(sp.Name())
		}()
		f.spool, f.spoolFrom = sp, tl.bounceFrom()
	}
	spec := media.Spec{Width: w, Height: h, FPS: tl.fps, Frames: tl.frames, AudioWAV: wav, Program: opt.FFmpeg, Nice: opt.EncoderNice}
	err := media.Encode(ectx, spec, func(i int, dst *image.RGBA) {
		if f.fill(i, dst.Pix) {
			draw(i, dst)
		}
	}, out, func(done, total int) { progress(float64(done) / float64(total)) })
	if ferr := f.failure(); ferr != nil && ctx.Err() == nil {
		// Encode saw only the cancellation that the failure caused.
		return ferr
	}
	if err != nil && ctx.Err() != nil {
		return contextFault(ctx.Err())
	}
	return err
}

// feeder hands the encoder's frame functions, which run on several
// goroutines, the input's frames in the timeline's order: each waits for
// its turn, reads its frame (from the decoder, or from the spool in a
// bounce), and passes the turn on.
type feeder struct {
	tl     timeline
	frames *media.Frames
	size   int // bytes a frame
	cancel context.CancelFunc

	// spool holds the input's frames from spoolFrom on, written as they
	// are decoded, for the bounce to read back; nil without one.
	spool     *os.File
	spoolFrom int

	mu   sync.Mutex
	turn *sync.Cond
	next int // the output frame whose turn it is
	err  error
}

// fill reads output frame i's input frame into dst, after frames 0 to i-1.
// It reports false, having cancelled the encoding, when that fails.
func (f *feeder) fill(i int, dst []byte) bool {
	f.mu.Lock()
	for f.next != i && f.err == nil {
		f.turn.Wait()
	}
	failed := f.err != nil
	f.mu.Unlock()
	if failed {
		return false
	}
	err := f.read(i, dst)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.next++
	if err != nil && f.err == nil {
		f.err = err
		f.cancel()
	}
	f.turn.Broadcast()
	return err == nil
}

// read reads output frame i's input frame into dst; it runs in turn.
func (f *feeder) read(i int, dst []byte) error {
	src := f.tl.source(i)
	if i < f.tl.input {
		if err := f.frames.Read(dst[:f.size]); err != nil {
			if errors.Is(err, io.EOF) {
				// The first pass counted more frames than this one gives:
				// ffmpeg should not do that.
				return fault.Wrap(fault.Render, "decoding the video failed", fmt.Errorf("frame %d of %d missing", i, f.tl.input))
			}
			return err
		}
		if f.spool != nil && src >= f.spoolFrom {
			if _, err := f.spool.WriteAt(dst[:f.size], int64(src-f.spoolFrom)*int64(f.size)); err != nil {
				return fault.Wrap(fault.Internal, "keeping the frames to play back", err)
			}
		}
		return nil
	}
	if _, err := f.spool.ReadAt(dst[:f.size], int64(src-f.spoolFrom)*int64(f.size)); err != nil {
		return fault.Wrap(fault.Internal, "reading the frames to play back", err)
	}
	return nil
}

// failure returns the error that stopped the feeding, if any.
func (f *feeder) failure() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}
