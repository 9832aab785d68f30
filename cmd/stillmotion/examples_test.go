package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// pythonWithRequests finds a Python that has the requests module, as the
// seed's Python examples need.
func pythonWithRequests(t *testing.T) string {
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import requests").Run() == nil {
			return py
		}
	}
	t.Fatal("no python3 with the requests module; install it with: apt-get install python3-requests")
	return ""
}

// ahead is a command started before the subtest that checks it: examples
// that mostly sleep between polls then all run at once, where parallel
// subtests would run only GOMAXPROCS of them at a time.
type ahead struct {
	done chan struct{}
	out  []byte
	err  error
}

func runAhead(cmd *exec.Cmd) *ahead {
	a := &ahead{done: make(chan struct{})}
	go func() {
		a.out, a.err = cmd.CombinedOutput()
		close(a.done)
	}()
	return a
}

// wait returns the command's output once it has ended.
func (a *ahead) wait() ([]byte, error) {
	<-a.done
	return a.out, a.err
}

// TestSeedExamples runs the four client examples of the hosted API's page,
// changed only in base URL, key and image URL, against the real binary
// serving HTTPS, and checks the video each one ends with.
func TestSeedExamples(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is needed for the JavaScript examples; install it with: apt-get install nodejs")
	}
	py := pythonWithRequests(t)
	dir := t.TempDir()
	cert, key := selfSignedCert(t, dir)
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(cert)
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	img := imageServer(t)
	p := startServer(t, serverOpts{allowPrivate: true, scheme: "https", client: client,
		extraArgs: []string{"--tls-cert", cert, "--tls-key", key}})

	urlRE := regexp.MustCompile(`https://127\.0\.0\.1:\d+/files/[^'"\s]+`)
	examples := []struct{ file, run string }{
		{"legacy.py", py}, {"lipsync.py", py}, {"legacy.js", "node"}, {"lipsync.js", "node"},
	}
	started := map[string]*ahead{}
	for _, ex := range examples {
		src, err := os.ReadFile(filepath.Join("..", "..", "examples", "seed", ex.file))
		if err != nil {
			t.Fatal(err)
		}
		s := strings.NewReplacer(
			"https://api.aimlapi.com", p.url,
			"<YOUR_AIMLAPI_KEY>", testKey,
			"https://s2-111386.kwimgs.com/bs2/mmu-aiplatform-temp/kling/20240620/1.jpeg", img.URL+"/astronaut.png",
			"https://raw.githubusercontent.com/aimlapi/api-docs/main/reference-files/news-presenter.jpg", img.URL+"/astronaut.png",
		).Replace(string(src))
		f := filepath.Join(dir, ex.file)
		os.WriteFile(f, []byte(s), 0o644)
		cmd := exec.Command(ex.run, f)
		cmd.Env = append(os.Environ(), "REQUESTS_CA_BUNDLE="+cert, "NODE_EXTRA_CA_CERTS="+cert)
		started[ex.file] = runAhead(cmd)
	}
	for _, ex := range examples {
		t.Run(ex.file, func(t *testing.T) {
			out, err := started[ex.file].wait()
			if err != nil {
				t.Fatalf("%s: %v\n%s", ex.file, err, out)
			}
			if !strings.Contains(string(out), "Processing complete") || !strings.Contains(string(out), "completed") {
				t.Fatalf("%s did not complete:\n%s", ex.file, out)
			}
			u := urlRE.FindString(string(out))
			if u == "" {
				t.Fatalf("no video URL in the output:\n%s", out)
			}
			u = strings.ReplaceAll(u, `\u0026`, "&")
			checkVideo(t, download(t, client, u), 720, 720, 5)
		})
	}
}
