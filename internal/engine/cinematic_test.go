package engine

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"stillmotion/internal/generation"
)

// cinematic is the benchmark clip: a camera move, an atmosphere
// effect, a grade and a style, without speech.
func cinematic(b *testing.B, resolution string, seconds int) {
	req := &generation.Request{Model: generation.Model, ImageURL: dataURI(b, "rocket.jpg"),
		Prompt: "slow push in on the rocket in the rain at night", Style: "cyberpunk",
		Resolution: resolution, Duration: seconds, Seed: 1, SeedGiven: true}
	out := filepath.Join(b.TempDir(), "o.mp4")
	for b.Loop() {
		o, err := (&Builtin{}).Render(context.Background(), &generation.Task{Request: req, Out: out})
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("plan: %s", o.Plan)
	}
	// The peak resident memory of this process (ffmpeg's is its own).
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for l := range strings.Lines(string(status)) {
			if f := strings.Fields(l); len(f) == 3 && f[0] == "VmHWM:" {
				if kb, err := strconv.Atoi(f[1]); err == nil {
					b.ReportMetric(float64(kb)/1024, "peak-MB")
				}
			}
		}
	}
}

// BenchmarkCinematic720p5s: 5 s at 720p with a push in, rain, a night
// grade and the cyberpunk style, from request to MP4.
func BenchmarkCinematic720p5s(b *testing.B) { cinematic(b, "720p", 5) }

// BenchmarkCinematic1080p5s is the same clip at 1080p.
func BenchmarkCinematic1080p5s(b *testing.B) { cinematic(b, "1080p", 5) }

// BenchmarkCinematic1080p8s is the 1080p clip at 8 s, for peak memory.
func BenchmarkCinematic1080p8s(b *testing.B) { cinematic(b, "1080p", 8) }
