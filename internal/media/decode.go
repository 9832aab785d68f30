package media

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"stillmotion/internal/fault"
)

// Videos made elsewhere are read in three steps: ProbeVideo checks the file
// (before any frame is decoded), OpenFrames or DecodeFrames stream its
// frames at a constant frame rate, and DecodeAudio reads a sound file.
//
// The files come from clients, so ffmpeg is kept to plain demuxing: inputs
// may use the file protocol only (no network, no playlists that open other
// files), ffprobe only considers the allowed containers, and frames are
// decoded with the demuxer the probe chose.

// Containers lists the video containers ProbeVideo accepts, for messages.
const Containers = "MP4, MOV or WebM"

// VideoInfo is what ProbeVideo reports about a video file.
type VideoInfo struct {
	Info // the streams, as Probe reports them; Width and Height as displayed (after rotation)

	// Container is "mp4", "mov" or "webm".
	Container string
	// Demuxer is ffmpeg's demuxer for the file ("mov" or "matroska"),
	// which OpenFrames uses rather than guessing again.
	Demuxer string
	// Rotation is the rotation, in degrees clockwise, that players apply
	// (phones record upright video as landscape frames with a rotation);
	// decoded frames come out rotated, in the size Width x Height.
	Rotation int
}

// EvenSize returns the frame size OpenFrames decodes at by default: the
// video's size cropped to even sides, as H.264 in 4:2:0 needs.
func (v VideoInfo) EvenSize() (w, h int) { return v.Width &^ 1, v.Height &^ 1 }

// sniffLen is how much of a file's start sniffContainer looks at.
const sniffLen = 256

// sniffContainer names the container the first bytes of a file say it is,
// and whether it is one ProbeVideo goes on to probe (the MP4 family or
// Matroska; which of those it really is, ffprobe decides). The check runs
// before ffprobe ever sees the file, so that text formats that ffmpeg
// would follow to other files (playlists, concat lists) never reach it.
func sniffContainer(head []byte) (name string, ok bool) {
	switch {
	case len(head) >= 12 && slices.Contains([]string{"ftyp", "moov", "mdat", "wide", "free", "skip", "pnot"}, string(head[4:8])):
		return "MP4", true
	case bytes.HasPrefix(head, []byte{0x1a, 0x45, 0xdf, 0xa3}):
		return "Matroska", true
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "AVI ":
		return "AVI", false
	case len(head) >= 12 && string(head[:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "WAV audio", false
	case bytes.HasPrefix(head, []byte("GIF8")):
		return "GIF", false
	case bytes.HasPrefix(head, []byte("\x89PNG")):
		return "PNG image", false
	case bytes.HasPrefix(head, []byte{0xff, 0xd8, 0xff}):
		return "JPEG image", false
	case bytes.HasPrefix(head, []byte("FLV")):
		return "FLV", false
	case bytes.HasPrefix(head, []byte{0x30, 0x26, 0xb2, 0x75}):
		return "WMV (ASF)", false
	case bytes.HasPrefix(head, []byte{0, 0, 1, 0xba}):
		return "MPEG program stream", false
	case len(head) > 188 && head[0] == 0x47 && head[188] == 0x47:
		return "MPEG transport stream", false
	case bytes.HasPrefix(head, []byte("OggS")):
		return "Ogg", false
	case bytes.HasPrefix(head, []byte("ID3")), len(head) >= 2 && head[0] == 0xff && head[1]&0xe0 == 0xe0:
		return "MP3 audio", false
	case bytes.HasPrefix(head, []byte("#EXTM3U")):
		return "HLS playlist", false
	}
	return "", false
}

// ProbeVideo checks that the file at path is a video in an allowed
// container (MP4, MOV or WebM) and reports its streams, reading its
// headers only. A file in another container, without a video stream, or
// that ffprobe cannot read is a fault of kind Invalid whose message says
// what was found and what is allowed; a missing ffprobe is a Render fault,
// and ctx's end a Cancelled or Timeout fault.
func ProbeVideo(ctx context.Context, path string) (VideoInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return VideoInfo{}, fault.Wrap(fault.Render, "could not read the video file", err)
	}
	head := make([]byte, sniffLen)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if name, ok := sniffContainer(head[:n]); !ok {
		if name == "" {
			return VideoInfo{}, fault.Errorf(fault.Invalid, "the video's format was not recognized; send an %s video", Containers)
		}
		return VideoInfo{}, fault.Errorf(fault.Invalid, "the video is in %s format; send an %s video", name, Containers)
	}

	program, err := exec.LookPath("ffprobe")
	if err != nil {
		return VideoInfo{}, fault.Wrap(fault.Render, "ffprobe not found; install it with: apt-get install ffmpeg", err)
	}
	cmd := exec.CommandContext(ctx, program, "-v", "error", "-of", "json",
		"-protocol_whitelist", "file", "-format_whitelist", "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm",
		"-show_entries", "format=format_name,duration:format_tags=major_brand"+
			":stream=codec_type,codec_name,width,height,pix_fmt,avg_frame_rate,r_frame_rate,sample_rate,nb_frames"+
			":stream_side_data=rotation:stream_tags=rotate",
		path)
	cmd.WaitDelay = 5 * time.Second
	var stderr tail
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return VideoInfo{}, contextFault(ctx.Err())
	}
	if err != nil {
		return VideoInfo{}, fault.Wrap(fault.Invalid, "the video file could not be read; it may be damaged or cut short",
			fmt.Errorf("ffprobe %s: %w: %s", path, err, stderr.lines(5)))
	}
	return parseVideoProbe(out)
}

// probeOutput is the part of ffprobe's JSON that Probe and ProbeVideo
// read.
type probeOutput struct {
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
		Tags       struct {
			MajorBrand string `json:"major_brand"`
		} `json:"tags"`
	} `json:"format"`
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		PixFmt       string `json:"pix_fmt"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		SampleRate   string `json:"sample_rate"`
		NbFrames     string `json:"nb_frames"`
		NbReadFrames string `json:"nb_read_frames"`
		Tags         struct {
			Rotate string `json:"rotate"`
		} `json:"tags"`
		SideData []sideData `json:"side_data_list"`
	} `json:"streams"`
}

// sideData is a stream's side data as ffprobe reports it: the display
// matrix's rotation, for one.
type sideData struct {
	Rotation *float64 `json:"rotation"`
}

// webmVideo and webmAudio are the codecs a WebM file may hold; a Matroska
// file with others is not WebM.
var (
	webmVideo = []string{"vp8", "vp9", "av1"}
	webmAudio = []string{"vorbis", "opus"}
)

// parseVideoProbe reads ffprobe's JSON output about one file.
func parseVideoProbe(out []byte) (VideoInfo, error) {
	var res probeOutput
	if err := json.Unmarshal(out, &res); err != nil {
		return VideoInfo{}, fault.Wrap(fault.Invalid, "the video file could not be read", fmt.Errorf("ffprobe output: %w", err))
	}
	var v VideoInfo
	d, err := strconv.ParseFloat(res.Format.Duration, 64)
	if err == nil && d > 0 && !math.IsInf(d, 0) {
		v.Duration = d
	}
	video := false
	for _, s := range res.Streams {
		switch {
		case s.CodecType == "video" && !video && s.CodecName != "mjpeg" && s.CodecName != "png":
			// Cover art is a video stream too, of one still picture.
			video = true
			v.Width, v.Height = max(s.Width, 0), max(s.Height, 0)
			v.VideoCodec, v.PixFmt = s.CodecName, s.PixFmt
			v.FPS = rate(s.AvgFrameRate)
			if v.FPS <= 0 || math.IsNaN(v.FPS) || math.IsInf(v.FPS, 0) {
				v.FPS = rate(s.RFrameRate)
			}
			if math.IsNaN(v.FPS) || math.IsInf(v.FPS, 0) || v.FPS < 0 {
				v.FPS = 0
			}
			v.Frames, _ = strconv.Atoi(s.NbFrames)
			v.Rotation = rotation(s.Tags.Rotate, s.SideData)
			if v.Rotation == 90 || v.Rotation == 270 {
				v.Width, v.Height = v.Height, v.Width
			}
		case s.CodecType == "audio" && !v.HasAudio:
			v.HasAudio = true
			v.AudioCodec = s.CodecName
			v.AudioRate, _ = strconv.Atoi(s.SampleRate)
		}
	}

	names := strings.Split(res.Format.FormatName, ",")
	switch {
	case slices.Contains(names, "mov"):
		v.Demuxer = "mov"
		brand := strings.TrimSpace(res.Format.Tags.MajorBrand)
		switch {
		case brand == "" || brand == "qt":
			v.Container = "mov"
		case strings.HasPrefix(brand, "3g"):
			return v, fault.Errorf(fault.Invalid, "the video is in 3GP format; send an %s video", Containers)
		case brand == "mjp2":
			return v, fault.Errorf(fault.Invalid, "the video is in Motion JPEG 2000 format; send an %s video", Containers)
		default:
			v.Container = "mp4"
		}
	case slices.Contains(names, "matroska"):
		v.Demuxer = "matroska"
		if video && !slices.Contains(webmVideo, v.VideoCodec) || v.HasAudio && !slices.Contains(webmAudio, v.AudioCodec) {
			return v, fault.Errorf(fault.Invalid, "the video is in Matroska (MKV) format, not WebM (which holds VP8, VP9 or AV1 video); send an %s video", Containers)
		}
		v.Container = "webm"
	default:
		return v, fault.Errorf(fault.Invalid, "the video's format (%s) is not allowed; send an %s video", cmp.Or(res.Format.FormatName, "unknown"), Containers)
	}
	if !video || v.Width <= 0 || v.Height <= 0 {
		return v, fault.Errorf(fault.Invalid, "the file has no video stream; send an %s video", Containers)
	}
	return v, nil
}

// rotation returns the clockwise rotation players apply, 0, 90, 180 or
// 270, from the display matrix (whose angle is counter-clockwise) or the
// older rotate tag.
func rotation(tag string, side []sideData) int {
	deg := 0.0
	found := false
	for _, s := range side {
		if s.Rotation != nil && !math.IsNaN(*s.Rotation) && !math.IsInf(*s.Rotation, 0) {
			deg, found = -*s.Rotation, true
			break
		}
	}
	if !found {
		r, err := strconv.ParseFloat(tag, 64)
		if err != nil || math.IsNaN(r) || math.IsInf(r, 0) {
			return 0
		}
		deg = r
	}
	q := int(math.Round(deg/90)) % 4
	return (q + 4) % 4 * 90
}

// DecodeOptions says how OpenFrames decodes a video.
type DecodeOptions struct {
	// FPS is the constant frame rate of the decoded frames: frames are
	// repeated or dropped to keep it, as ffmpeg's fps filter does, so
	// frame i shows the video at time i/FPS. It must be positive.
	FPS int
	// Width and Height are the frames' size. The video (rotated upright)
	// is cropped to even sides, then scaled to this size; its own even
	// size (VideoInfo.EvenSize) leaves it unscaled.
	Width, Height int
	// Gray asks for 8-bit luma, one byte a pixel, instead of RGBA.
	Gray bool
	// Start and Count select frames Start to Start+Count-1 (all from
	// Start on when Count is 0). The frames before Start are decoded, as
	// they must be, but not converted or sent.
	Start, Count int
	// Demuxer forces ffmpeg's demuxer (VideoInfo.Demuxer); "" lets
	// ffmpeg guess, which only files this program made should need.
	Demuxer string
	// Program is the ffmpeg program; "" means "ffmpeg" on the PATH.
	Program string
}

// FrameBytes returns the size of one decoded frame.
func (o DecodeOptions) FrameBytes() int {
	if o.Gray {
		return o.Width * o.Height
	}
	return 4 * o.Width * o.Height
}

// Frames is a video being decoded, frame by frame, by an ffmpeg process:
// only the frame being read is in memory.
type Frames struct {
	ctx    context.Context
	opt    DecodeOptions
	cmd    *exec.Cmd
	out    io.ReadCloser
	stderr *tail
	read   int
	done   bool
	err    error
}

// OpenFrames starts decoding the video at path with opt. The caller reads
// the frames with Read and must call Close.
func OpenFrames(ctx context.Context, path string, opt DecodeOptions) (*Frames, error) {
	if opt.FPS <= 0 || opt.Width <= 0 || opt.Height <= 0 || opt.Start < 0 || opt.Count < 0 {
		return nil, &fault.Error{Kind: fault.Internal, Err: fmt.Errorf("media: invalid decode options %dx%d at %d fps", opt.Width, opt.Height, opt.FPS)}
	}
	if err := ctx.Err(); err != nil {
		return nil, contextFault(err)
	}
	program, err := exec.LookPath(cmp.Or(opt.Program, "ffmpeg"))
	if err != nil {
		return nil, fault.Wrap(fault.Render, notFound, err)
	}
	cmd := exec.CommandContext(ctx, program, decodeArgs(path, opt)...)
	cmd.WaitDelay = 5 * time.Second
	f := &Frames{ctx: ctx, opt: opt, cmd: cmd, stderr: &tail{}}
	cmd.Stderr = f.stderr
	if f.out, err = cmd.StdoutPipe(); err != nil {
		return nil, fault.Wrap(fault.Render, "could not start ffmpeg", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fault.Wrap(fault.Render, "could not start ffmpeg", err)
	}
	return f, nil
}

// decodeArgs returns ffmpeg's arguments to decode path with opt.
func decodeArgs(path string, opt DecodeOptions) []string {
	args := []string{"-hide_banner", "-nostats", "-loglevel", "error", "-nostdin", "-protocol_whitelist", "file"}
	if opt.Demuxer != "" {
		args = append(args, "-f", opt.Demuxer)
	}
	pix := "rgba"
	if opt.Gray {
		pix = "gray"
	}
	// fps first, so that every size of a video has the same frames; the
	// frames are picked before they are scaled and converted, which is
	// the costly part; area averaging, so that a reduced copy does not
	// alias.
	filter := fmt.Sprintf("fps=%d", opt.FPS)
	if opt.Start > 0 || opt.Count > 0 {
		filter += fmt.Sprintf(",trim=start_frame=%d", opt.Start)
		if opt.Count > 0 {
			filter += fmt.Sprintf(":end_frame=%d", opt.Start+opt.Count)
		}
	}
	filter += fmt.Sprintf(",crop=trunc(iw/2)*2:trunc(ih/2)*2,scale=%d:%d:flags=area", opt.Width, opt.Height)
	return append(args, "-i", path,
		"-map", "0:v:0", "-an", "-sn", "-dn",
		"-vf", filter, "-fps_mode", "passthrough",
		"-pix_fmt", pix, "-f", "rawvideo", "pipe:1")
}

// Size returns the frames' size.
func (f *Frames) Size() (w, h int) { return f.opt.Width, f.opt.Height }

// Read reads the next frame into dst, which must hold FrameBytes bytes:
// RGBA (or luma) rows, packed. It returns io.EOF after the last frame.
func (f *Frames) Read(dst []byte) error {
	if f.err != nil {
		return f.err
	}
	if f.done {
		return io.EOF
	}
	n := f.opt.FrameBytes()
	if len(dst) < n {
		return &fault.Error{Kind: fault.Internal, Err: fmt.Errorf("media: frame buffer of %d bytes, want %d", len(dst), n)}
	}
	_, err := io.ReadFull(f.out, dst[:n])
	if err == nil {
		f.read++
		return nil
	}
	// The end, or a failure: ffmpeg's exit status and error output say.
	werr := f.cmd.Wait()
	f.done = true
	switch {
	case f.ctx.Err() != nil:
		f.err = contextFault(f.ctx.Err())
	case werr != nil:
		f.err = fault.Wrap(fault.Invalid, "the video could not be decoded; it may be damaged", fmt.Errorf("ffmpeg: %w: %s", werr, f.stderr.lines(8)))
	case err == io.EOF:
		return io.EOF
	default:
		f.err = fault.Wrap(fault.Render, "decoding the video failed", fmt.Errorf("ffmpeg: frame %d cut short: %w", f.read, err))
	}
	return f.err
}

// Frames returns the number of frames read so far.
func (f *Frames) Frames() int { return f.read }

// Close stops ffmpeg, if it is still decoding, and waits for it.
func (f *Frames) Close() error {
	if f.done {
		return nil
	}
	f.done = true
	if f.cmd.Process != nil {
		f.cmd.Process.Kill()
	}
	f.out.Close()
	f.cmd.Wait()
	return nil
}

// DecodeFrames decodes the video at path with opt and calls frame with the
// index and pixels of each frame in turn; the pixels are reused for the
// next frame. It returns the number of frames, or the first error of
// frame, of ffmpeg or of ctx. Faults are as ProbeVideo's: Invalid for a
// file ffmpeg cannot decode, Render for a missing ffmpeg, Cancelled or
// Timeout when ctx ends.
func DecodeFrames(ctx context.Context, path string, opt DecodeOptions, frame func(i int, pix []byte) error) (int, error) {
	f, err := OpenFrames(ctx, path, opt)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, opt.FrameBytes())
	for i := 0; ; i++ {
		err := f.Read(buf)
		if err == io.EOF {
			return i, nil
		}
		if err != nil {
			if ctx.Err() != nil {
				return i, contextFault(ctx.Err())
			}
			return i, err
		}
		if err := frame(opt.Start+i, buf); err != nil {
			return i, err
		}
	}
}

// audioDemuxers are the formats DecodeAudio reads: the containers of WAV,
// MP3, AAC (ADTS and MP4/M4A), Ogg (Vorbis, Opus), FLAC and WebM or
// Matroska audio.
const audioDemuxers = "wav,w64,mp3,aac,mov,mp4,m4a,3gp,3g2,mj2,ogg,flac,matroska,webm"

// AudioFormats lists what DecodeAudio reads, for messages.
const AudioFormats = "WAV, MP3, AAC/M4A, OGG (Vorbis or Opus), FLAC or WebM audio"

// DecodeAudio decodes the first audio stream of the file at path (WAV,
// MP3, AAC or M4A, Ogg Vorbis or Opus, FLAC, WebM; a video's sound too) to
// mono 16-bit samples at rate Hz, channels mixed down. It decodes at most
// max of it (a longer file is cut there; a caller that must know passes a
// max beyond what it keeps). A file of another format, without sound, or
// that ffmpeg cannot decode is a fault of kind Invalid; a missing ffmpeg is
// a Render fault; ctx's end a Cancelled or Timeout fault.
func DecodeAudio(ctx context.Context, path string, rate int, max time.Duration) ([]int16, error) {
	if rate <= 0 || max <= 0 {
		return nil, &fault.Error{Kind: fault.Internal, Err: fmt.Errorf("media: DecodeAudio at %d Hz for %v", rate, max)}
	}
	program, err := exec.LookPath("ffmpeg")
	if err != nil {
		return nil, fault.Wrap(fault.Render, notFound, err)
	}
	cmd := exec.CommandContext(ctx, program, "-hide_banner", "-nostats", "-loglevel", "error", "-nostdin",
		"-protocol_whitelist", "file", "-format_whitelist", audioDemuxers,
		"-i", path, "-map", "0:a:0?", "-vn", "-sn", "-dn",
		"-t", strconv.FormatFloat(max.Seconds(), 'f', 6, 64),
		"-ac", "1", "-ar", strconv.Itoa(rate), "-f", "s16le", "pipe:1")
	cmd.WaitDelay = 5 * time.Second
	var stderr tail
	cmd.Stderr = &stderr
	// The output is bounded by max: 2 bytes a sample.
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return nil, contextFault(ctx.Err())
	}
	if err != nil {
		msg := "the audio file could not be decoded; send " + AudioFormats
		switch why := stderr.lines(8); {
		case strings.Contains(why, "not on whitelist"):
			msg = "the audio file's format is not allowed; send " + AudioFormats
		case strings.Contains(why, "does not contain any stream"):
			msg = "the audio file has no sound; send " + AudioFormats
		}
		return nil, fault.Wrap(fault.Invalid, msg, fmt.Errorf("ffmpeg: %w: %s", err, stderr.lines(8)))
	}
	if len(out) < 2 {
		return nil, fault.Errorf(fault.Invalid, "the audio file has no sound; send %s", AudioFormats)
	}
	samples := make([]int16, len(out)/2)
	for i := range samples {
		samples[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
	}
	return samples, nil
}
