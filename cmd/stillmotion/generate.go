package main

// The commands that talk to a running server with the Go SDK: generate,
// status and cancel.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"stillmotion/client"
)

// remote are the flags of the commands that talk to a server.
type remote struct {
	server, key string
	legacy      bool
}

func (r *remote) register(fs *flag.FlagSet) {
	fs.StringVar(&r.server, "server", env("STILLMOTION_SERVER", "http://127.0.0.1:8080"), "base URL of the server (env STILLMOTION_SERVER)")
	fs.StringVar(&r.key, "key", env("STILLMOTION_API_KEY", ""), "API key (env STILLMOTION_API_KEY)")
	fs.BoolVar(&r.legacy, "legacy", false, "use the legacy route /v2/generate/video/pixverse/generation")
}

func (r *remote) client() (*client.Client, error) {
	if r.key == "" {
		return nil, errors.New("no API key: pass --key or set STILLMOTION_API_KEY ('stillmotion keys create' makes one)")
	}
	var opts []client.Option
	if r.legacy {
		opts = append(opts, client.WithLegacyRoutes())
	}
	opts = append(opts, client.WithUserAgent("stillmotion-cli/"+buildVersion()))
	return client.New(r.server, r.key, opts...), nil
}

// explain turns an error of the client into what a user of the command line
// needs: the server's message, each invalid field under the flag that set
// it, and a hint when the server cannot be reached.
func (r *remote) explain(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s (HTTP %d", ae.Message, ae.StatusCode)
		if ae.RequestID != "" {
			fmt.Fprintf(&b, ", request id %s", ae.RequestID)
		}
		b.WriteString(")")
		for _, f := range ae.Fields {
			name := f.Field
			if fl, ok := fieldFlags[f.Field]; ok {
				name = fl + " (" + f.Field + ")"
			}
			fmt.Fprintf(&b, "\n  %s: %s", name, f.Message)
		}
		return errors.New(b.String())
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w\nis a server running at %s? (--server, STILLMOTION_SERVER)", err, r.server)
	}
	return err
}

// fieldFlags names the generate flag of each request field.
var fieldFlags = map[string]string{
	"prompt": "--prompt", "image_url": "--image", "resolution": "--resolution", "duration": "--duration",
	"negative_prompt": "--negative-prompt", "style": "--style", "seed": "--seed",
	"lip_sync_tts_content": "--speech", "lip_sync_tts_speaker": "--voice", "generation_id": "ID",
}

// runRemote runs generate, status or cancel.
func runRemote(ctx context.Context, cmd string, args []string) error {
	switch cmd {
	case "generate":
		return runGenerate(ctx, args)
	case "status":
		return runStatus(ctx, args)
	}
	return runCancel(ctx, args)
}

func runGenerate(ctx context.Context, args []string) error {
	fs := newFlagSet("generate", "generate --image FILE|URL --prompt TEXT -o out.mp4 [flags]")
	var r remote
	r.register(fs)
	image := fs.String("image", "", "first frame: a local file (sent as a data: URI), or an http(s) URL the server fetches (required)")
	prompt := fs.String("prompt", "", "what happens in the video (required)")
	negative := fs.String("negative-prompt", "", "what to avoid")
	resolution := fs.String("resolution", "", "short side of the frame: 360p, 540p, 720p or 1080p; default 720p")
	duration := fs.Int("duration", 0, "seconds: 5 or 8 (1080p: 5 only); default 5")
	style := fs.String("style", "", "anime, 3d_animation, clay, comic or cyberpunk")
	seed := fs.Int64("seed", -1, "0..2147483647; same request and seed give the same video; default random")
	speechText := fs.String("speech", "", "text to speak, lips in sync (1..200 characters)")
	voice := fs.String("voice", "", "voice of --speech, such as Chloe or Ethan; default Auto")
	out := fs.String("o", "", "output MP4 file (required)")
	quiet := fs.Bool("q", false, "no progress")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; see 'stillmotion generate -h'", fs.Args())
	}
	if *image == "" || *prompt == "" || *out == "" {
		fs.Usage()
		return errors.New("generate needs --image, --prompt and -o")
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	src := *image
	if !hasPrefix(src, "http://", "https://", "data:") {
		if src, err = client.FileDataURI(src); err != nil {
			return fmt.Errorf("reading --image: %w", err)
		}
	}
	req := &client.CreateRequest{
		Prompt: *prompt, ImageURL: src, Resolution: *resolution, Duration: *duration,
		NegativePrompt: *negative, Style: *style, Speech: *speechText, Speaker: *voice,
	}
	if *seed >= 0 {
		req.Seed = seed
	}

	g, err := c.Create(ctx, req)
	if err != nil {
		return r.explain(err)
	}
	id := g.ID
	rep := newReporter(os.Stderr, *quiet)
	if !*quiet {
		// Shown first, on a terminal too: the id is what status and cancel take.
		fmt.Fprintf(os.Stderr, "generation %s %s\n", id, g.Status)
	}
	// A bar wants updates often; a poll a second is cheap for the server.
	g, err = c.Wait(ctx, id, client.PollInterval(250*time.Millisecond, time.Second), client.OnProgress(rep.poll))
	rep.finish()
	var ge *client.GenerationError
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted; generation %[1]s goes on on the server: 'stillmotion status %[1]s' follows it, 'stillmotion cancel %[1]s' stops it", id)
	case errors.As(err, &ge):
		return fmt.Errorf("generation %s failed: %s: %s", id, ge.Name, ge.Message)
	case err != nil:
		return r.explain(err)
	}

	n, err := downloadVideo(ctx, c, g, *out, rep)
	rep.finish()
	if err != nil {
		return r.explain(err)
	}
	v := g.Video
	fmt.Printf("wrote %s: %d bytes, %dx%d, %g s (generation %s, %d credits)\n", *out, n, v.Width, v.Height, v.Duration, g.ID, g.Usage.CreditsUsed)
	for _, w := range v.Warnings {
		fmt.Fprintln(os.Stderr, "warning:", w)
	}
	return nil
}

// downloadVideo writes the video of g to path through path+".part", so that
// a failed download leaves no partial file under the name asked for.
func downloadVideo(ctx context.Context, c *client.Client, g *client.Generation, path string, rep *reporter) (int64, error) {
	part := path + ".part"
	f, err := os.Create(part)
	if err != nil {
		return 0, err
	}
	defer os.Remove(part) // after the rename, a no-op
	rep.downloading(g.Video.FileSize)
	n, err := c.Download(ctx, g.Video.URL, f, rep.downloaded)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	return n, os.Rename(part, path)
}

func hasPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// reporter shows a generation's progress on stderr: a bar on a terminal
// (a spinner while queued, then percent, then download bytes), a line per
// step otherwise, so that logs stay readable.
type reporter struct {
	w     io.Writer
	tty   bool
	quiet bool
	bar   *progressbar.ProgressBar
	phase string // "queued", "generating" or "downloading"
	step  int    // last tenth of the progress written, in line mode
	pos   int    // last queue position shown
}

func newReporter(w *os.File, quiet bool) *reporter {
	return &reporter{w: w, quiet: quiet, tty: term.IsTerminal(int(w.Fd()))}
}

// line writes a line in line mode.
func (r *reporter) line(format string, args ...any) {
	if !r.quiet && !r.tty {
		fmt.Fprintf(r.w, format+"\n", args...)
	}
}

// enter starts phase, making its bar on a terminal; it reports whether the
// phase is new.
func (r *reporter) enter(phase string, newBar func() *progressbar.ProgressBar) bool {
	if r.phase == phase {
		return false
	}
	r.finish()
	r.phase, r.step = phase, -1
	if r.tty && !r.quiet {
		r.bar = newBar()
	}
	return true
}

func (r *reporter) options(desc string, more ...progressbar.Option) []progressbar.Option {
	return append([]progressbar.Option{progressbar.OptionSetWriter(r.w), progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30), progressbar.OptionClearOnFinish(), progressbar.OptionThrottle(100 * time.Millisecond)}, more...)
}

func (r *reporter) poll(g *client.Generation) {
	switch g.Status {
	case client.Queued:
		r.enter("queued", func() *progressbar.ProgressBar {
			return progressbar.NewOptions(-1, r.options("queued", progressbar.OptionSpinnerType(14))...)
		})
		if g.QueuePosition > 0 && g.QueuePosition != r.pos {
			r.pos = g.QueuePosition
			r.line("queued, %d ahead", g.QueuePosition)
			if r.bar != nil {
				r.bar.Describe(fmt.Sprintf("queued, %d ahead", g.QueuePosition))
			}
		}
		if r.bar != nil {
			r.bar.Add(1) // turns the spinner
		}
	case client.Generating:
		r.enter("generating", func() *progressbar.ProgressBar {
			return progressbar.NewOptions(100, r.options("generating")...)
		})
		pct := int(g.Progress * 100)
		if r.bar != nil {
			r.bar.Set(pct)
		}
		if pct/10 > r.step {
			r.step = pct / 10
			r.line("generating %d%%", pct)
		}
	}
}

func (r *reporter) downloading(total int64) {
	if total <= 0 {
		total = -1
	}
	r.enter("downloading", func() *progressbar.ProgressBar {
		return progressbar.NewOptions64(total, r.options("downloading", progressbar.OptionShowBytes(true))...)
	})
	r.line("downloading %d bytes", total)
}

func (r *reporter) downloaded(written, total int64) {
	if r.bar != nil {
		r.bar.Set64(written)
	}
}

// finish ends the current phase's bar.
func (r *reporter) finish() {
	if r.bar != nil {
		r.bar.Finish()
		r.bar = nil
	}
	r.phase = ""
}

// parseWithID parses args whose one positional argument, the generation
// id, may come before or after the flags.
func parseWithID(fs *flag.FlagSet, name string, args []string) (string, error) {
	var ids []string
	for {
		if err := fs.Parse(args); err != nil {
			return "", err
		}
		if fs.NArg() == 0 {
			break
		}
		ids = append(ids, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(ids) != 1 {
		fs.Usage()
		return "", fmt.Errorf("%s needs one generation ID", name)
	}
	return ids[0], nil
}

func runStatus(ctx context.Context, args []string) error {
	fs := newFlagSet("status", "status ID [flags]")
	var r remote
	r.register(fs)
	asJSON := fs.Bool("json", false, "print the server's answer as JSON")
	id, err := parseWithID(fs, "status", args)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	g, err := c.Get(ctx, id)
	if err != nil {
		return r.explain(err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false) // URLs keep their '&'
		enc.SetIndent("", "  ")
		return enc.Encode(g)
	}
	printGeneration(os.Stdout, g)
	return nil
}

func printGeneration(w io.Writer, g *client.Generation) {
	status := string(g.Status)
	switch {
	case g.Status == client.Generating:
		status += fmt.Sprintf(" %d%%", int(g.Progress*100))
	case g.Status == client.Queued && g.QueuePosition > 0:
		status += fmt.Sprintf(", %d ahead", g.QueuePosition)
	}
	fmt.Fprintf(w, "id:      %s\nstatus:  %s\n", g.ID, status)
	if v := g.Video; v != nil {
		audio := "no audio"
		if v.HasAudio {
			audio = "with audio"
		}
		fmt.Fprintf(w, "video:   %s\n         %d bytes, %dx%d, %g s at %d fps, %s\n", v.URL, v.FileSize, v.Width, v.Height, v.Duration, v.FPS, audio)
		for _, warn := range v.Warnings {
			fmt.Fprintf(w, "warning: %s\n", warn)
		}
	}
	if e := g.Error; e != nil {
		fmt.Fprintf(w, "error:   %s: %s\n", e.Name, e.Message)
	}
	fmt.Fprintf(w, "usage:   %d credits ($%g)\n", g.Usage.CreditsUsed, g.Usage.USDSpent)
}

func runCancel(ctx context.Context, args []string) error {
	fs := newFlagSet("cancel", "cancel ID [flags]")
	var r remote
	r.register(fs)
	id, err := parseWithID(fs, "cancel", args)
	if err != nil {
		return err
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	g, err := c.Cancel(ctx, id)
	if err != nil {
		return r.explain(err)
	}
	fmt.Printf("cancelled %s (refunded)\n", g.ID)
	return nil
}
