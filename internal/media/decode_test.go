package media

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"stillmotion/internal/fault"
)

// makeFile runs ffmpeg to write out (in dir) from args, and returns its
// path.
func makeFile(t testing.TB, dir, out string, args ...string) string {
	t.Helper()
	p := filepath.Join(dir, out)
	cmd := exec.Command("ffmpeg", append(append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...), p)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %s: %v: %s", strings.Join(args, " "), err, b)
	}
	return p
}

// testsrc returns ffmpeg input arguments for a test pattern of size at
// rate for dur seconds, with a tone.
func testsrc(size, rate, dur string) []string {
	return []string{"-f", "lavfi", "-i", "testsrc2=s=" + size + ":r=" + rate + ":d=" + dur,
		"-f", "lavfi", "-i", "sine=f=440:d=" + dur}
}

var h264 = []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}

func TestProbeVideo(t *testing.T) {
	dir := t.TempDir()
	base := makeFile(t, dir, "base.mp4", append(append(testsrc("160x120", "25", "1"), h264...), "-c:a", "aac", "-shortest")...)
	rotated := filepath.Join(dir, "rotated.mp4")
	makeFile(t, dir, "rotated.mp4", "-i", base, "-c", "copy", "-metadata:s:v:0", "rotate=90")
	tests := []struct {
		name, file string
		want       VideoInfo
	}{
		{"MP4", base, VideoInfo{Info: Info{Width: 160, Height: 120, FPS: 25, VideoCodec: "h264", HasAudio: true, AudioCodec: "aac"}, Container: "mp4", Demuxer: "mov"}},
		{"MOV", makeFile(t, dir, "v.mov", append(append(testsrc("160x120", "30", "1"), h264...), "-c:a", "aac", "-shortest", "-f", "mov")...),
			VideoInfo{Info: Info{Width: 160, Height: 120, FPS: 30, VideoCodec: "h264", HasAudio: true, AudioCodec: "aac"}, Container: "mov", Demuxer: "mov"}},
		{"WebM", makeFile(t, dir, "v.webm", append(testsrc("160x120", "24", "1"), "-c:v", "libvpx-vp9", "-deadline", "realtime", "-c:a", "libopus", "-shortest")...),
			VideoInfo{Info: Info{Width: 160, Height: 120, FPS: 24, VideoCodec: "vp9", HasAudio: true, AudioCodec: "opus"}, Container: "webm", Demuxer: "matroska"}},
		{"rotated", rotated,
			VideoInfo{Info: Info{Width: 120, Height: 160, FPS: 25, VideoCodec: "h264", HasAudio: true, AudioCodec: "aac"}, Container: "mp4", Demuxer: "mov", Rotation: 270}},
		{"silent", makeFile(t, dir, "silent.mp4", append([]string{"-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=1"}, h264...)...),
			VideoInfo{Info: Info{Width: 96, Height: 64, FPS: 10, VideoCodec: "h264"}, Container: "mp4", Demuxer: "mov"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ProbeVideo(context.Background(), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if math.Abs(got.Duration-1) > 0.1 {
				t.Errorf("duration %.3f s, want 1 s", got.Duration)
			}
			got.Duration, got.PixFmt, got.Frames, got.AudioRate = 0, "", 0, 0
			if got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestProbeVideoRefuses(t *testing.T) {
	dir := t.TempDir()
	video := []string{"-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=0.5"}
	text := filepath.Join(dir, "list.mp4")
	if err := os.WriteFile(text, []byte("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.mp4")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("stillmotion "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	good := makeFile(t, dir, "good.mp4", append(video, h264...)...)
	b, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(dir, "cut.mp4")
	if err := os.WriteFile(cut, b[:len(b)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, file, want string
	}{
		{"AVI", makeFile(t, dir, "v.avi", append(video, "-c:v", "mpeg4")...), "the video is in AVI format; send an MP4, MOV or WebM video"},
		{"Matroska with H.264", makeFile(t, dir, "v.mkv", append(video, h264...)...),
			"the video is in Matroska (MKV) format, not WebM (which holds VP8, VP9 or AV1 video); send an MP4, MOV or WebM video"},
		{"3GP", makeFile(t, dir, "v.3gp", append(video, append(h264, "-f", "3gp")...)...), "the video is in 3GP format; send an MP4, MOV or WebM video"},
		{"GIF", makeFile(t, dir, "v.gif", video...), "the video is in GIF format; send an MP4, MOV or WebM video"},
		{"MPEG-TS", makeFile(t, dir, "v.ts", append(video, append(h264, "-f", "mpegts")...)...), "the video is in MPEG transport stream format"},
		{"sound only", makeFile(t, dir, "a.m4a", "-f", "lavfi", "-i", "sine=d=0.5", "-c:a", "aac"), "the file has no video stream; send an MP4, MOV or WebM video"},
		{"playlist", text, "the video is in HLS playlist format"},
		{"garbage", garbage, "the video's format was not recognized; send an MP4, MOV or WebM video"},
		{"cut short", cut, "the video file could not be read; it may be damaged or cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ProbeVideo(context.Background(), tt.file)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || !strings.HasPrefix(fe.Message, tt.want) {
				t.Errorf("error %v, want an Invalid fault saying %q", err, tt.want)
			}
		})
	}
}

func TestDecodeFrames(t *testing.T) {
	dir := t.TempDir()
	video := makeFile(t, dir, "v.mp4", append([]string{"-f", "lavfi", "-i", "testsrc2=s=160x120:r=25:d=2"}, h264...)...)
	odd := makeFile(t, dir, "odd.mp4", "-f", "lavfi", "-i", "testsrc2=s=161x121:r=25:d=1", "-c:v", "libx264", "-pix_fmt", "yuv444p")
	ctx := context.Background()
	all := func(path string, opt DecodeOptions) [][]byte {
		t.Helper()
		var frames [][]byte
		n, err := DecodeFrames(ctx, path, opt, func(i int, pix []byte) error {
			if i != opt.Start+len(frames) {
				t.Errorf("frame %d after %d", i, opt.Start+len(frames)-1)
			}
			if len(pix) != opt.FrameBytes() {
				t.Errorf("frame of %d bytes, want %d", len(pix), opt.FrameBytes())
			}
			frames = append(frames, bytes.Clone(pix))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != len(frames) {
			t.Errorf("DecodeFrames says %d frames, gave %d", n, len(frames))
		}
		return frames
	}
	native := all(video, DecodeOptions{FPS: 25, Width: 160, Height: 120, Demuxer: "mov"})
	tests := []struct {
		name   string
		path   string
		opt    DecodeOptions
		frames int
	}{
		{"own rate", video, DecodeOptions{FPS: 25, Width: 160, Height: 120}, 50},
		{"faster rate repeats frames", video, DecodeOptions{FPS: 30, Width: 160, Height: 120}, 60},
		{"slower rate drops frames", video, DecodeOptions{FPS: 10, Width: 160, Height: 120}, 20},
		{"reduced grey", video, DecodeOptions{FPS: 25, Width: 80, Height: 60, Gray: true}, 50},
		{"a stretch", video, DecodeOptions{FPS: 25, Width: 160, Height: 120, Start: 17, Count: 5}, 5},
		{"the end", video, DecodeOptions{FPS: 25, Width: 160, Height: 120, Start: 45}, 5},
		{"odd size cropped to even", odd, DecodeOptions{FPS: 25, Width: 160, Height: 120}, 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := all(tt.path, tt.opt)
			if len(got) != tt.frames {
				t.Fatalf("%d frames, want %d", len(got), tt.frames)
			}
			if tt.opt.Start > 0 {
				for i, f := range got {
					if !bytes.Equal(f, native[tt.opt.Start+i]) {
						t.Errorf("frame %d differs from the same frame decoded with the rest", tt.opt.Start+i)
					}
				}
			}
		})
	}
	if p := native[0][3]; p != 255 {
		t.Errorf("alpha %d, want 255", p)
	}
}

func TestDecodeFramesFailures(t *testing.T) {
	dir := t.TempDir()
	video := makeFile(t, dir, "v.mp4", append([]string{"-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=20"}, h264...)...)
	opt := DecodeOptions{FPS: 25, Width: 320, Height: 240}

	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var at time.Time
		_, err := DecodeFrames(ctx, video, opt, func(i int, pix []byte) error {
			if i == 10 {
				at = time.Now()
				cancel()
			}
			return nil
		})
		if fault.KindOf(err) != fault.Cancelled {
			t.Errorf("error %v, want Cancelled", err)
		}
		if took := time.Since(at); took > 2*time.Second {
			t.Errorf("returned %v after the cancellation", took)
		}
	})
	t.Run("callback error", func(t *testing.T) {
		stop := errors.New("stop")
		n, err := DecodeFrames(context.Background(), video, opt, func(i int, pix []byte) error {
			if i == 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 3 {
			t.Errorf("%d frames, error %v; want 3 and the callback's", n, err)
		}
	})
	t.Run("damaged", func(t *testing.T) {
		b, err := os.ReadFile(video)
		if err != nil {
			t.Fatal(err)
		}
		// Zeroes over the middle of the stream.
		clear(b[len(b)/3 : len(b)/2])
		bad := filepath.Join(dir, "bad.mp4")
		if err := os.WriteFile(bad, b, 0o644); err != nil {
			t.Fatal(err)
		}
		n, err := DecodeFrames(context.Background(), bad, opt, func(int, []byte) error { return nil })
		// ffmpeg conceals damage where it can; it must not return more
		// frames than there are, nor hang.
		if err == nil && n > 500 {
			t.Errorf("%d frames from a 500-frame video", n)
		}
	})
	t.Run("missing ffmpeg", func(t *testing.T) {
		o := opt
		o.Program = filepath.Join(dir, "no-such-ffmpeg")
		_, err := DecodeFrames(context.Background(), video, o, func(int, []byte) error { return nil })
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Kind != fault.Render || !strings.Contains(fe.Message, "apt-get install ffmpeg") {
			t.Errorf("error %v, want a Render fault saying how to install ffmpeg", err)
		}
	})
}

// TestDecodeAudio decodes the same two seconds of speech-like sound from
// each format a client may send, and the sound of a video.
func TestDecodeAudio(t *testing.T) {
	dir := t.TempDir()
	mono := filepath.Join(dir, "mono.wav")
	writeWAV(t, mono, 2, 44100, true)
	// Stereo files, which DecodeAudio mixes down.
	wav := makeFile(t, dir, "speech.wav", "-i", mono, "-ac", "2")
	stereo := []string{"-i", wav}
	tests := []struct {
		name, file string
	}{
		{"WAV", wav},
		{"mono WAV", mono},
		{"MP3", makeFile(t, dir, "s.mp3", append(stereo, "-c:a", "libmp3lame", "-b:a", "128k")...)},
		{"AAC in M4A", makeFile(t, dir, "s.m4a", append(stereo, "-c:a", "aac")...)},
		{"AAC in ADTS", makeFile(t, dir, "s.aac", append(stereo, "-c:a", "aac")...)},
		{"Ogg Opus", makeFile(t, dir, "s.opus", append(stereo, "-c:a", "libopus", "-f", "ogg")...)},
		{"Ogg Vorbis", makeFile(t, dir, "s.ogg", append(stereo, "-c:a", "libvorbis")...)},
		{"FLAC", makeFile(t, dir, "s.flac", append(stereo, "-c:a", "flac")...)},
		{"WebM Opus", makeFile(t, dir, "s.webm", append(stereo, "-c:a", "libopus")...)},
		{"a video's sound", makeFile(t, dir, "v.mp4", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=2", "-i", wav, "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest")},
	}
	ref, err := DecodeAudio(context.Background(), wav, 48000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	t.Run("formats", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				got, err := DecodeAudio(context.Background(), tt.file, 48000, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				secs := float64(len(got)) / 48000
				// Lossy codecs pad a frame or two at the ends.
				if math.Abs(secs-2) > 0.06 {
					t.Errorf("%.3f s, want 2 s", secs)
				}
				mu.Lock()
				defer mu.Unlock()
				// Stereo is mixed down to the mean of the channels; the
				// mono WAV was spread over two at -3 dB.
				r, g := rms(ref), rms(got)
				if tt.file == mono {
					g /= math.Sqrt2
				}
				if math.Abs(20*math.Log10(g/r)) > 1 {
					t.Errorf("level %.0f, the WAV's %.0f: more than 1 dB apart", g, r)
				}
			})
		}
	})

	t.Run("cut at max", func(t *testing.T) {
		got, err := DecodeAudio(context.Background(), wav, 16000, 1500*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 24000 {
			t.Errorf("%d samples, want 24000", len(got))
		}
	})
	silent := makeFile(t, dir, "silent.mp4", "-f", "lavfi", "-i", "testsrc2=s=96x64:r=10:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p")
	text := filepath.Join(dir, "list.m3u8")
	if err := os.WriteFile(text, []byte("#EXTM3U\n#EXTINF:1,\n"+wav+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, file, want string }{
		{"no sound", silent, "the audio file has no sound"},
		{"playlist", text, "the audio file"},
		{"missing", filepath.Join(dir, "missing.wav"), "the audio file could not be decoded"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeAudio(context.Background(), tt.file, 48000, time.Minute)
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || !strings.HasPrefix(fe.Message, tt.want) {
				t.Errorf("error %v, want an Invalid fault saying %q", err, tt.want)
			}
		})
	}
}

func rms(s []int16) float64 {
	var e float64
	for _, v := range s {
		e += float64(v) * float64(v)
	}
	return math.Sqrt(e / float64(max(len(s), 1)))
}

func TestRotation(t *testing.T) {
	deg := func(x float64) []sideData { return []sideData{{Rotation: &x}} }
	tests := []struct {
		tag  string
		side []sideData
		want int
	}{
		{"", nil, 0},
		{"90", nil, 90},
		{"-90", nil, 270},
		{"180", nil, 180},
		{"", deg(90), 270}, // counter-clockwise in the matrix
		{"", deg(-90), 90},
		{"", deg(-180), 180},
		{"", deg(89.9), 270},
		{"90", deg(0), 0}, // the matrix wins
		{"junk", nil, 0},
	}
	for _, tt := range tests {
		if got := rotation(tt.tag, tt.side); got != tt.want {
			t.Errorf("rotation(%q, %v) = %d, want %d", tt.tag, tt.side, got, tt.want)
		}
	}
}

// FuzzParseVideoProbe checks that ffprobe's output, however odd, gives a
// fault or a VideoInfo that the decoder can use.
func FuzzParseVideoProbe(f *testing.F) {
	f.Add([]byte(`{"streams":[{"codec_type":"video","codec_name":"h264","width":640,"height":360,"avg_frame_rate":"30000/1001","side_data_list":[{"rotation":-90}]},{"codec_type":"audio","codec_name":"aac","sample_rate":"48000"}],"format":{"format_name":"mov,mp4,m4a,3gp,3g2,mj2","duration":"5.005","tags":{"major_brand":"isom"}}}`))
	f.Add([]byte(`{"streams":[{"codec_type":"video","codec_name":"vp9","width":64,"height":64,"avg_frame_rate":"0/0","r_frame_rate":"25/1"}],"format":{"format_name":"matroska,webm","duration":"N/A"}}`))
	f.Add([]byte(`{"streams":[{"codec_type":"video","codec_name":"mjpeg","width":1,"height":1}],"format":{"format_name":"mov","tags":{"major_brand":"qt  "}}}`))
	f.Add([]byte(`{"streams":[],"format":{}}`))
	f.Add([]byte(`not json`))
	f.Fuzz(func(t *testing.T, out []byte) {
		v, err := parseVideoProbe(out)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Kind != fault.Invalid || fe.Message == "" {
				t.Fatalf("error %v, want an Invalid fault with a message", err)
			}
			return
		}
		if v.Width <= 0 || v.Height <= 0 || v.Container == "" || v.Demuxer == "" {
			t.Fatalf("accepted %+v", v)
		}
		if math.IsNaN(v.FPS) || math.IsInf(v.FPS, 0) || v.FPS < 0 || math.IsNaN(v.Duration) || v.Duration < 0 {
			t.Fatalf("rate %v, duration %v", v.FPS, v.Duration)
		}
		if v.Rotation%90 != 0 || v.Rotation < 0 || v.Rotation >= 360 {
			t.Fatalf("rotation %d", v.Rotation)
		}
	})
}

// FuzzSniffContainer checks that only the MP4 family and Matroska pass
// the first look, whatever the bytes.
func FuzzSniffContainer(f *testing.F) {
	f.Add([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"))
	f.Add([]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"))
	f.Add([]byte("RIFF\x00\x00\x00\x00AVI LIST"))
	f.Add([]byte("#EXTM3U\n"))
	f.Add([]byte("GIF89a"))
	f.Fuzz(func(t *testing.T, head []byte) {
		name, ok := sniffContainer(head)
		if ok && name != "MP4" && name != "Matroska" {
			t.Fatalf("%q passes as %q", head, name)
		}
		if ok && !(len(head) >= 8 || bytes.HasPrefix(head, []byte{0x1a, 0x45, 0xdf, 0xa3})) {
			t.Fatalf("%q passes on too few bytes", head)
		}
	})
}
