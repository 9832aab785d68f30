package ambience

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"stillmotion/internal/loudness"
	"stillmotion/internal/prompt"
	"strconv"
	"testing"
	"time"
)

// TestLoudnessFFmpeg measures clips with ffmpeg's ebur128 filter, an
// independent BS.1770 implementation, where ffmpeg is installed.
func TestLoudnessFFmpeg(t *testing.T) {
	t.Parallel()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed")
	}
	sc := prompt.Read("a thunderstorm", "")
	storm := Plan(sc)
	storm.Events = Lightning(sc, 8*time.Second, 2)
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
			ours := loudness.Integrated(loudness.FromPCM(s), rate)
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
