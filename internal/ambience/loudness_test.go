package ambience

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

func tone(n int, hz, amp float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*hz*float64(i)/rate)
	}
	return x
}

func TestLoudness(t *testing.T) {
	t.Parallel()
	sine := tone(5*rate, 1000, 0.1)
	withSilence := append(make([]float64, 5*rate), sine...)
	tests := []struct {
		name      string
		x         []float64
		want, tol float64
	}{
		// BS.1770: a 1 kHz sine at 0 dBFS peak reads -3.01 LUFS.
		{"1 kHz sine at -20 dBFS", sine, -23.01, 0.05},
		// Blocks that straddle the start of the tone pass the relative gate.
		{"gated silence", withSilence, -23.01, 0.2},
		{"short", tone(rate/10, 1000, 0.1), -23.01, 0.05},
		{"silence", make([]float64, rate), math.Inf(-1), 0},
		{"empty", nil, math.Inf(-1), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := loudness(tt.x)
			if math.IsInf(tt.want, -1) {
				if !math.IsInf(got, -1) {
					t.Errorf("loudness %.2f, want -Inf", got)
				}
				return
			}
			if math.Abs(got-tt.want) > tt.tol {
				t.Errorf("loudness %.3f LUFS, want %.2f ± %.2f", got, tt.want, tt.tol)
			}
		})
	}
}

// TestLoudnessFFmpeg measures clips with ffmpeg's ebur128 filter, an
// independent BS.1770 implementation, where ffmpeg is installed.
func TestLoudnessFFmpeg(t *testing.T) {
	t.Parallel()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	storm := Plan("a thunderstorm", "")
	storm.Events = Lightning("a thunderstorm", 8*time.Second, 2)
	for _, tt := range []struct {
		name  string
		scene Scene
		bed   bool
	}{
		{"rain", alone(Rain, Moderate), false},
		{"sea bed", alone(Sea, Moderate), true},
		{"storm", storm, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := render(tt.scene, 8*time.Second, 7, tt.bed)
			path := filepath.Join(t.TempDir(), "x.wav")
			if err := os.WriteFile(path, wav(s), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command(ffmpeg, "-hide_banner", "-nostats", "-i", path, "-af", "ebur128", "-f", "null", "-").CombinedOutput()
			if err != nil {
				t.Fatalf("ffmpeg: %v\n%s", err, out)
			}
			m := regexp.MustCompile(`(?s)Summary:.*?I:\s+(-?[\d.]+) LUFS`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("no integrated loudness in ffmpeg's output:\n%s", out)
			}
			theirs, _ := strconv.ParseFloat(string(m[1]), 64)
			ours := loudness(fromPCM(s))
			t.Logf("loudness %.2f LUFS, ffmpeg ebur128 %.1f", ours, theirs)
			if math.Abs(ours-theirs) > 0.2 {
				t.Errorf("loudness %.2f LUFS, ffmpeg says %.1f", ours, theirs)
			}
		})
	}
}

// wav returns s as a 16-bit mono WAV file at SampleRate.
func wav(s []int16) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	b.WriteString("RIFF")
	binary.Write(&b, le, uint32(36+2*len(s)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(rate), uint32(2 * rate), uint16(2), uint16(16)} {
		binary.Write(&b, le, v) // fmt: PCM, mono, rate, byte rate, block align, bits
	}
	b.WriteString("data")
	binary.Write(&b, le, uint32(2*len(s)))
	binary.Write(&b, le, s)
	return b.Bytes()
}

func TestLimit(t *testing.T) {
	t.Parallel()
	x := tone(rate, 440, 0.5)
	for i := rate / 2; i < rate/2+100; i++ {
		x[i] = 3 // a spike far over full scale
	}
	before := append([]float64(nil), x...)
	limit(x)
	for i, v := range x {
		if math.Abs(v) > ceiling {
			t.Fatalf("sample %d is %g, over the ceiling %g", i, v, ceiling)
		}
	}
	// Far from the spike the signal is untouched.
	if x[100] != before[100] || x[rate-100] != before[rate-100] {
		t.Error("limit changed samples far from the peak")
	}
}
