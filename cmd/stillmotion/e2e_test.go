package main

// End-to-end tests: the real binary, started as a process, with real ffmpeg
// and flite, driven over HTTP like a client would.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"stillmotion/internal/media"
)

var binPath string // the stillmotion binary under test, built once by TestMain

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stillmotion-e2e-")
	if err != nil {
		panic(err)
	}
	binPath = filepath.Join(dir, "stillmotion")
	out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testKey = "e2e-test-key"

// proc is a running stillmotion server.
type proc struct {
	url     string
	addr    string
	dataDir string
	cmd     *exec.Cmd
	log     *bytes.Buffer
	logMu   *sync.Mutex // guards log, which the process writes to
	client  *http.Client
}

// logs returns what the process has logged so far.
func (p *proc) logs() string {
	p.logMu.Lock()
	defer p.logMu.Unlock()
	return p.log.String()
}

type serverOpts struct {
	dataDir      string
	addr         string
	workers      int
	apiOnly      bool // --workers 0
	allowPrivate bool
	extraArgs    []string
	extraEnv     []string
	client       *http.Client
	scheme       string
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the process's writer goroutine.
type syncBuffer struct {
	mu sync.Mutex
	bytes.Buffer
}

func startServer(t *testing.T, o serverOpts) *proc {
	t.Helper()
	if o.dataDir == "" {
		o.dataDir = t.TempDir()
	}
	if o.addr == "" {
		o.addr = freeAddr(t)
	}
	if o.workers == 0 && !o.apiOnly {
		o.workers = 2
	}
	if o.scheme == "" {
		o.scheme = "http"
	}
	args := append([]string{"serve", "--addr", o.addr, "--data-dir", o.dataDir, "--workers", fmt.Sprint(o.workers)}, o.extraArgs...)
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), "STILLMOTION_API_KEYS="+testKey)
	if o.allowPrivate {
		cmd.Env = append(cmd.Env, "STILLMOTION_ALLOW_PRIVATE_FETCH=1")
	}
	cmd.Env = append(cmd.Env, o.extraEnv...)
	log := &bytes.Buffer{}
	var mu sync.Mutex
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	go func() {
		s := bufio.NewScanner(pr)
		for s.Scan() {
			mu.Lock()
			log.WriteString(s.Text() + "\n")
			mu.Unlock()
		}
	}()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{url: o.scheme + "://" + o.addr, addr: o.addr, dataDir: o.dataDir, cmd: cmd, log: log, logMu: &mu, client: o.client}
	if p.client == nil {
		p.client = &http.Client{Timeout: 30 * time.Second}
	}
	t.Cleanup(func() {
		p.kill()
		pw.Close()
		if t.Failed() {
			mu.Lock()
			t.Logf("server log:\n%s", log.String())
			mu.Unlock()
		}
	})
	if !p.waitReady() {
		t.Fatalf("server did not become ready")
	}
	return p
}

// waitReady reports whether p's /readyz answers 200 within 20 s.
func (p *proc) waitReady() bool {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if res, err := p.client.Get(p.url + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return true
			}
		}
	}
	return false
}

func (p *proc) kill() {
	if p.cmd.Process != nil && p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
	}
}

func (p *proc) do(t *testing.T, method, path string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	return p.doWith(t, method, path, body, "")
}

// doWith is do with an Idempotency-Key (none if key is "").
func (p *proc) doWith(t *testing.T, method, path string, body any, key string) (int, map[string]any, http.Header) {
	t.Helper()
	req := p.request(testKey, method, path, body)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var m map[string]any
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s: body is not JSON: %q", method, path, raw)
	}
	return res.StatusCode, m, res.Header
}

// request is a JSON request of body (none if nil) to p as the API key key.
func (p *proc) request(key, method, path string, body any) *http.Request {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, p.url+path, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func (p *proc) submit(t *testing.T, path string, body map[string]any) string {
	t.Helper()
	code, m, h := p.do(t, "POST", path, body)
	if code != 200 {
		t.Fatalf("submit: %d %v", code, m)
	}
	id, _ := m["id"].(string)
	if len(id) != 21 || m["status"] != "queued" || h.Get("X-Inference-Id") != id {
		t.Fatalf("submit response %v (headers %v)", m, h)
	}
	return id
}

// wait polls until the generation ends and returns the final body.
func (p *proc) wait(t *testing.T, path, id string, timeout time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		code, m, _ := p.do(t, "GET", path+"?generation_id="+id, nil)
		if code != 200 {
			t.Fatalf("poll: %d %v", code, m)
		}
		switch m["status"] {
		case "queued", "generating":
			time.Sleep(200 * time.Millisecond)
			continue
		}
		return m
	}
	t.Fatalf("generation %s did not end within %v", id, timeout)
	return nil
}

func imageServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir("testdata")))
	t.Cleanup(srv.Close)
	return srv
}

// download fetches url to a file and returns its path, checking the
// headers a player relies on.
func download(t *testing.T, client *http.Client, url string) string {
	t.Helper()
	res, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "video/mp4" || res.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("download: %d, headers %v", res.StatusCode, res.Header)
	}
	f := filepath.Join(t.TempDir(), "out.mp4")
	out, _ := os.Create(f)
	defer out.Close()
	if _, err := io.Copy(out, res.Body); err != nil {
		t.Fatal(err)
	}
	return f
}

// audioRMS decodes the audio track of path and returns its RMS level in
// dBFS, over the whole track.
func audioRMS(t *testing.T, path string) float64 {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", "16000", "-").Output()
	if err != nil {
		t.Fatalf("decoding audio: %v", err)
	}
	var sum float64
	n := len(out) / 2
	for i := range n {
		v := float64(int16(binary.LittleEndian.Uint16(out[2*i:]))) / 32768
		sum += v * v
	}
	if n == 0 || sum == 0 {
		return math.Inf(-1)
	}
	return 10 * math.Log10(sum/float64(n))
}

func checkVideo(t *testing.T, path string, w, h int, seconds float64) media.Info {
	t.Helper()
	info, err := media.Probe(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if info.VideoCodec != "h264" || info.PixFmt != "yuv420p" || info.Width != w || info.Height != h {
		t.Errorf("video %+v, want h264 yuv420p %dx%d", info, w, h)
	}
	if math.Abs(info.Duration-seconds) > 1.0/24 {
		t.Errorf("duration %.3f s, want %.3f ± one frame", info.Duration, seconds)
	}
	if !info.HasAudio || info.AudioCodec != "aac" || info.AudioRate != 48000 {
		t.Errorf("audio %+v, want aac 48 kHz", info)
	}
	return info
}

func TestEndToEnd(t *testing.T) {
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true})

	// Universal URL, no speech: a landscape at 360p.
	silent := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "pan right across the launch pad",
		"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "seed": 11,
	})
	// Legacy URL, with speech: a portrait at 720p.
	talking := p.submit(t, "/v2/generate/video/pixverse/generation", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "An astronaut smiles at the camera, slow zoom in",
		"image_url": img.URL + "/astronaut.png", "duration": "5",
		"lip_sync_tts_content": "Hello from orbit. The view up here is wonderful.", "lip_sync_tts_speaker": "Chloe",
	})

	m := p.wait(t, "/v2/video/generations", silent, 2*time.Minute)
	if m["status"] != "completed" {
		t.Fatalf("silent generation: %v", m)
	}
	v := m["video"].(map[string]any)
	if v["content_type"] != "video/mp4" || v["file_name"] != "output.mp4" || !strings.HasPrefix(v["url"].(string), p.url+"/files/") {
		t.Errorf("video %v", v)
	}
	f := download(t, p.client, v["url"].(string))
	fi, _ := os.Stat(f)
	if int64(v["file_size"].(float64)) != fi.Size() {
		t.Errorf("file_size %v, downloaded %d bytes", v["file_size"], fi.Size())
	}
	// 640x427 at 360p: short side 360, aspect kept, even.
	checkVideo(t, f, 540, 360, 5)
	// Without speech the clip has the scene's ambience: here, nothing in the
	// prompt names a sound, so a quiet room tone well below speech level.
	if db := audioRMS(t, f); db > -38 || db < -80 {
		t.Errorf("ambience of a clip without speech is at %.1f dBFS, want quiet room tone", db)
	}

	m = p.wait(t, "/v2/generate/video/pixverse/generation", talking, 2*time.Minute)
	if m["status"] != "completed" {
		t.Fatalf("talking generation: %v", m)
	}
	v = m["video"].(map[string]any)
	f = download(t, p.client, v["url"].(string))
	checkVideo(t, f, 720, 720, 5)
	if db := audioRMS(t, f); db < -35 {
		t.Errorf("speech track is at %.1f dBFS: it should be audible speech", db)
	}
	usage := m["meta"].(map[string]any)["usage"].(map[string]any)
	if usage["credits_used"].(float64) != 420000+4*84000 { // 48 bytes of speech: 4 chunks
		t.Errorf("usage %v", usage)
	}

	// Range requests work on the real file, so players can seek.
	req, _ := http.NewRequest("GET", v["url"].(string), nil)
	req.Header.Set("Range", "bytes=0-99")
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 206 || len(b) != 100 || !bytes.Contains(b[:32], []byte("ftyp")) {
		t.Errorf("range: %d, %d bytes", res.StatusCode, len(b))
	}
}

// TestSameSeedSameBytes checks determinism through the whole service.
func TestSameSeedSameBytes(t *testing.T) {
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true})
	body := map[string]any{"model": "pixverse/v5/image-to-video", "prompt": "tilt up to the sky",
		"image_url": img.URL + "/rocket.jpg", "resolution": "360p", "seed": 4242,
		"lip_sync_tts_content": "Liftoff.", "lip_sync_tts_speaker": "Mason"}
	var files []string
	for _, id := range []string{p.submit(t, "/v2/video/generations", body), p.submit(t, "/v2/video/generations", body)} {
		m := p.wait(t, "/v2/video/generations", id, 2*time.Minute)
		if m["status"] != "completed" {
			t.Fatalf("%v", m)
		}
		files = append(files, download(t, p.client, m["video"].(map[string]any)["url"].(string)))
	}
	a, _ := os.ReadFile(files[0])
	b, _ := os.ReadFile(files[1])
	if !bytes.Equal(a, b) {
		t.Errorf("same request and seed gave different files (%d and %d bytes)", len(a), len(b))
	}
}

// TestRestartAfterKill submits several generations, SIGKILLs the server
// while they render, restarts it on the same data dir, and expects every
// one of them to complete.
func TestRestartAfterKill(t *testing.T) {
	img := imageServer(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startServer(t, serverOpts{dataDir: dir, addr: addr, workers: 1, allowPrivate: true})
	var ids []string
	for i := range 4 {
		ids = append(ids, p.submit(t, "/v2/video/generations", map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": "zoom in", "image_url": img.URL + "/rocket.jpg",
			"resolution": "540p", "duration": 8, "seed": i,
		}))
	}
	// Kill it as soon as the first one is rendering.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, m, _ := p.do(t, "GET", "/v2/video/generations?generation_id="+ids[0], nil)
		if m["status"] == "generating" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never started: %v", m)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.cmd.Wait()

	p = startServer(t, serverOpts{dataDir: dir, addr: addr, workers: 2, allowPrivate: true})
	for _, id := range ids {
		m := p.wait(t, "/v2/video/generations", id, 3*time.Minute)
		if m["status"] != "completed" {
			t.Errorf("%s after restart: %v", id, m)
			continue
		}
		checkVideo(t, download(t, p.client, m["video"].(map[string]any)["url"].(string)), 810, 540, 8)
	}
	// No stray temporary files were left behind.
	if left := files(t, filepath.Join(dir, "tmp")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// files lists the regular files under dir.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestGracefulShutdown sends SIGTERM while a render runs: the server stops
// taking work, finishes the render, and exits cleanly.
func TestGracefulShutdown(t *testing.T) {
	img := imageServer(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	p := startServer(t, serverOpts{dataDir: dir, addr: addr, workers: 1, allowPrivate: true})
	id := p.submit(t, "/v2/video/generations", map[string]any{
		"model": "pixverse/v5/image-to-video", "prompt": "zoom out", "image_url": img.URL + "/rocket.jpg", "resolution": "360p"})
	for {
		_, m, _ := p.do(t, "GET", "/v2/video/generations?generation_id="+id, nil)
		if m["status"] != "queued" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("SIGTERM did not stop the server")
	}
	p = startServer(t, serverOpts{dataDir: dir, addr: addr, allowPrivate: true})
	if m := p.wait(t, "/v2/video/generations", id, time.Minute); m["status"] != "completed" {
		t.Fatalf("after a graceful stop: %v", m)
	}
}

// TestIntakeFailures: images that cannot be used end their generation in
// error with a clear name, are not charged, and the server stays healthy.
func TestIntakeFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/jpeg") // lies
		io.WriteString(w, "<!doctype html><html><body>not an image</body></html>")
	})
	jpeg, _ := os.ReadFile("testdata/rocket.jpg")
	mux.HandleFunc("/truncated.jpg", func(w http.ResponseWriter, r *http.Request) { w.Write(jpeg[:len(jpeg)/3]) })
	mux.HandleFunc("/huge.png", func(w http.ResponseWriter, r *http.Request) { w.Write(hugePNGHeader(100000, 100000)) })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Write(jpeg[:2])
		w.Write(make([]byte, 21<<20))
	})
	mux.HandleFunc("/missing.png", http.NotFound)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	strict := startServer(t, serverOpts{}) // private fetches refused
	loose := startServer(t, serverOpts{allowPrivate: true})

	// A literal forbidden address is refused at submit, before any work.
	for _, u := range []string{"http://127.0.0.1:9/x.png", "http://10.0.0.1/x.png", "http://169.254.169.254/latest/meta-data/",
		"http://[::1]:9/x.png", "http://[::ffff:127.0.0.1]/x.png", "http://localhost/x.png"} {
		code, m, _ := strict.do(t, "POST", "/v2/video/generations", map[string]any{
			"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": u})
		errs, _ := m["errors"].([]any)
		if code != 400 || len(errs) != 1 || !strings.Contains(fmt.Sprint(errs[0]), "STILLMOTION_ALLOW_PRIVATE_FETCH") {
			t.Errorf("%s: %d %v, want 400 naming image_url and how to allow it", u, code, m)
		}
	}

	// A name that resolves to a forbidden address is refused when fetched.
	host := "localhost."
	if h, err := os.Hostname(); err == nil {
		if ips, err := net.LookupIP(h); err == nil && len(ips) > 0 && ips[0].IsLoopback() {
			host = h
		}
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	tests := []struct {
		name string
		p    *proc
		url  string
		want string
	}{
		{"name resolving to loopback", strict, "http://" + net.JoinHostPort(host, port) + "/truncated.jpg", "image_url_forbidden"},
		{"html", loose, srv.URL + "/html", "image_invalid"},
		{"truncated jpeg", loose, srv.URL + "/truncated.jpg", "image_invalid"},
		{"huge png header", loose, srv.URL + "/huge.png", "image_too_large"},
		{"oversized body", loose, srv.URL + "/big", "image_too_large"},
		{"404", loose, srv.URL + "/missing.png", "image_fetch_failed"},
		{"unreachable", loose, "http://127.0.0.1:9/x.png", "image_fetch_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := tt.p.submit(t, "/v2/video/generations", map[string]any{
				"model": "pixverse/v5/image-to-video", "prompt": "p", "image_url": tt.url, "resolution": "360p"})
			m := tt.p.wait(t, "/v2/video/generations", id, time.Minute)
			e, _ := m["error"].(map[string]any)
			if m["status"] != "error" || e == nil {
				t.Fatalf("got %v, want an error", m)
			}
			if e["name"] != tt.want {
				t.Errorf("error %v, want name %s", e, tt.want)
			}
			if msg, _ := e["message"].(string); len(msg) < 20 {
				t.Errorf("message %q is not helpful", msg)
			}
			if m["meta"].(map[string]any)["usage"].(map[string]any)["credits_used"].(float64) != 0 {
				t.Errorf("a failed generation was charged: %v", m["meta"])
			}
		})
	}
	for _, p := range []*proc{strict, loose} {
		if res, err := p.client.Get(p.url + "/healthz"); err != nil || res.StatusCode != 200 {
			t.Errorf("server unhealthy after bad images: %v", err)
		}
	}
}

// hugePNGHeader returns the start of a PNG whose IHDR claims w x h.
func hugePNGHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2
	chunk := append([]byte("IHDR"), ihdr...)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	b.Write(make([]byte, 64))
	return b.Bytes()
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key, for the
// seed examples, which speak HTTPS.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "stillmotion test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile
}

func postWithKey(t *testing.T, p *proc, key string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", p.url+"/v2/video/generations", bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := p.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}
