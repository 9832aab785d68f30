package engine

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"stillmotion/internal/generation"
	"stillmotion/internal/media"
)

// clipOf makes a 2 s test video with ffmpeg's own sources.
func clipOf(t *testing.T, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("ffmpeg", append(append([]string{"-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=16:duration=2"}, args...), out)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making %s: %v\n%s", name, err, b)
	}
	return out
}

func TestFinish(t *testing.T) {
	mp4 := clipOf(t, "in.mp4", "-f", "lavfi", "-i", "sine=frequency=440:duration=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", "-movflags", "+faststart")
	silent := clipOf(t, "silent.mp4", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	gif := clipOf(t, "in.gif")
	webp := clipOf(t, "in.webp", "-c:v", "libwebp_anim", "-loop", "0")
	for _, tt := range []struct {
		name, src string
		speech    string
		same      bool // the file is kept byte for byte
		audio     bool
		warning   string
	}{
		{"H.264/AAC MP4 is kept", mp4, "", true, true, ""},
		{"a model's own audio is kept, with a warning", mp4, "Hello there.", true, true, "made its own audio"},
		{"no audio, no speech", silent, "", true, false, ""},
		{"speech added to a silent model", silent, "Hello there.", false, true, "speech was added"},
		{"GIF", gif, "", false, false, ""},
		{"animated WebP with speech", webp, "Hello there.", false, true, "speech was added"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			task := &generation.Task{Request: &generation.Request{Speech: tt.speech, Speaker: "Chloe"}, Out: filepath.Join(t.TempDir(), "out.mp4")}
			o, err := (&Finisher{}).Finish(context.Background(), tt.src, task)
			if err != nil {
				t.Fatal(err)
			}
			info, err := media.Probe(context.Background(), task.Out)
			if err != nil {
				t.Fatal(err)
			}
			if info.VideoCodec != "h264" || info.Width != 320 || info.Height != 240 || o.Width != 320 || o.FPS != 16 {
				t.Errorf("video %+v, output %+v", info, o)
			}
			if d := info.Duration - 2; d > 0.1 || d < -0.1 {
				t.Errorf("duration %.3f s, want 2", info.Duration)
			}
			if info.HasAudio != tt.audio || o.HasAudio != tt.audio || (tt.audio && info.AudioCodec != "aac") {
				t.Errorf("audio %v (%s), reported %v; want %v", info.HasAudio, info.AudioCodec, o.HasAudio, tt.audio)
			}
			in, _ := os.ReadFile(tt.src)
			out, _ := os.ReadFile(task.Out)
			if bytes.Equal(in, out) != tt.same {
				t.Errorf("kept byte for byte: %v, want %v", bytes.Equal(in, out), tt.same)
			}
			if got := strings.Join(o.Warnings, "; "); (tt.warning == "") != (got == "") || !strings.Contains(got, tt.warning) {
				t.Errorf("warnings %q, want %q", got, tt.warning)
			}
		})
	}
	t.Run("not a video", func(t *testing.T) {
		src := filepath.Join(t.TempDir(), "x.mp4")
		os.WriteFile(src, []byte("<html>gone</html>"), 0o644)
		task := &generation.Task{Request: &generation.Request{}, Out: filepath.Join(t.TempDir(), "out.mp4")}
		if _, err := (&Finisher{}).Finish(context.Background(), src, task); err == nil || !strings.Contains(err.Error(), "not a video") {
			t.Errorf("Finish = %v", err)
		}
		leftover, _ := filepath.Glob(filepath.Join(filepath.Dir(task.Out), "*"))
		if len(leftover) > 0 {
			t.Errorf("files left: %v", leftover)
		}
	})
}
