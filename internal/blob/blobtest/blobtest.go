// Package blobtest starts a real S3-compatible server for tests: the Versity
// S3 Gateway (versitygw), on loopback, over a temporary directory. The
// binary is built once from the Go module proxy at a pinned version and
// cached under the user's cache directory (scripts/setup.sh --test builds it
// ahead of time); STILLMOTION_VERSITYGW names another binary.
package blobtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Version is the versitygw release the tests run against.
const Version = "v1.8.0"

// Server is a running S3-compatible server with one fresh bucket.
type Server struct {
	Endpoint  string // "http://127.0.0.1:PORT"
	Region    string
	Bucket    string
	AccessKey string
	SecretKey string
	// Client is a minio-go client for the server, as the root user.
	Client *minio.Client
}

// StorageURL is the --storage URL of the server's bucket.
func (s *Server) StorageURL() string {
	return "s3://" + s.Bucket + "?endpoint=" + s.Endpoint + "&region=" + s.Region
}

// Env are the environment variables that give a process the credentials.
func (s *Server) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + s.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s.SecretKey}
}

// Start starts a server for the test, stopped when it ends. Without a
// binary that can be built, it skips the test, or fails it when
// STILLMOTION_TEST_REQUIRE_SERVICES=1 (as scripts/test.sh sets).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		unavailable(t, "no S3 server: %v", err)
	}
	dir := t.TempDir()
	s := &Server{Region: "us-east-1", Bucket: "stillmotion-test", AccessKey: "testaccess" + randHex(4), SecretKey: "testsecret" + randHex(12)}
	var lastErr error
	for try := 0; try < 3; try++ {
		addr := freeAddr(t)
		cmd := exec.Command(bin, "--port", addr, "--quiet", "posix", dir)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		s.Endpoint = "http://" + addr
		if lastErr = waitListening(addr, exited, 15*time.Second); lastErr != nil {
			cmd.Process.Kill()
			<-exited
			lastErr = fmt.Errorf("%v; output:\n%s", lastErr, out.String())
			continue
		}
		t.Cleanup(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		})
		break
	}
	if lastErr != nil {
		t.Fatalf("versitygw did not start: %v", lastErr)
	}
	var err2 error
	s.Client, err2 = minio.New(addrOf(s.Endpoint), &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Region: s.Region})
	if err2 != nil {
		t.Fatal(err2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := s.Client.MakeBucket(ctx, s.Bucket, minio.MakeBucketOptions{Region: s.Region}); err != nil {
		t.Fatalf("creating the bucket: %v", err)
	}
	return s
}

func addrOf(endpoint string) string { return endpoint[len("http://"):] }

func waitListening(addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("versitygw exited")
		default:
		}
		res, err := http.Get("http://" + addr + "/")
		if err == nil {
			res.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("versitygw not listening on %s after %v", addr, timeout)
}

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("STILLMOTION_TEST_REQUIRE_SERVICES") == "1" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format+" (set STILLMOTION_TEST_REQUIRE_SERVICES=1 to make this a failure)", args...)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary returns the path of the versitygw binary, building it into the
// cache directory first if it is not there.
func Binary() (string, error) {
	buildOnce.Do(func() { binPath, buildErr = build() })
	return binPath, buildErr
}

// CacheDir is where the binary is cached: $XDG_CACHE_HOME/stillmotion/versitygw-VERSION
// (~/.cache/... by default).
func CacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "stillmotion", "versitygw-"+Version), nil
}

func build() (string, error) {
	if p := os.Getenv("STILLMOTION_VERSITYGW"); p != "" {
		return p, nil
	}
	dir, err := CacheDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// Several test binaries may get here at once: one builds, the others wait.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	work, err := os.MkdirTemp("", "versitygw-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	// Outside any module, so that our go.mod plays no part.
	cmd := exec.Command(goBin, "install", "github.com/versity/versitygw/cmd/versitygw@"+Version)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOFLAGS=-mod=mod", "CGO_ENABLED=0", "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	fmt.Fprintf(os.Stderr, "blobtest: building versitygw %s into %s (once; about 1.5 minutes)\n", Version, dir)
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("building versitygw %s: %v\n%s", Version, err, out.String())
	}
	return bin, nil
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
