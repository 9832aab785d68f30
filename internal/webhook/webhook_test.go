package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The test vector of the Standard Webhooks specification.
func TestSignSpecVector(t *testing.T) {
	t.Parallel()
	s, err := ParseSecret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		t.Fatal(err)
	}
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	got := Sign(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`))
	if got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	if !Verify(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, []byte(`{"test": 2432232314}`), "v1,bogus "+want) {
		t.Fatal("Verify refused the spec's signature")
	}
	if Verify(s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, []byte(`{"test": 2432232314}`), want) {
		t.Fatal("Verify accepted another timestamp")
	}
	if s.String() != "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" {
		t.Fatalf("String = %s", s)
	}
}

func TestParseSecretRefusesShortOnes(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"whsec_nope", "whsec_", "whsec_!!!!"} {
		if _, err := ParseSecret(s); err == nil {
			t.Errorf("ParseSecret(%q) accepted", s)
		}
	}
}

func TestLoadSecretPersists(t *testing.T) {
	t.Parallel()
	path := t.TempDir() + "/webhook.secret"
	a, created, err := LoadSecret(path)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	b, created, err := LoadSecret(path)
	if err != nil || created || a.String() != b.String() {
		t.Fatal(created, err, a, b)
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"http://10.0.0.1/x", "http://127.0.0.1:9/", "https://localhost/", "ftp://example.com/", "example.com", "http://[::1]/"} {
		if CheckURL(u, false) == nil {
			t.Errorf("CheckURL(%q) accepted", u)
		}
	}
	if err := CheckURL("https://example.com/hook", false); err != nil {
		t.Error(err)
	}
	if err := CheckURL("http://10.0.0.1/x", true); err != nil {
		t.Error(err)
	}
}

func TestSendOutcomes(t *testing.T) {
	t.Parallel()
	status := http.StatusOK
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		w.WriteHeader(status)
	}))
	defer srv.Close()
	s := &Sender{Secret: Secret("k"), AllowPrivate: true, Now: func() time.Time { return time.Unix(100, 0) }}
	body := []byte(`{"a":1}`)
	if err := s.Send(context.Background(), srv.URL, "msg_1", body); err != nil {
		t.Fatal(err)
	}
	if !Verify(s.Secret, got.Header.Get("webhook-id"), 100, body, got.Header.Get("webhook-signature")) || got.Header.Get("webhook-timestamp") != "100" {
		t.Fatalf("bad signature headers: %v", got.Header)
	}
	for code, giveUp := range map[int]bool{500: false, 429: false, 408: false, 410: true, 400: true, 302: false} {
		status = code
		err := s.Send(context.Background(), srv.URL, "msg_1", body)
		if err == nil || errors.Is(err, ErrGiveUp) != giveUp {
			t.Errorf("status %d: err %v, want give up %v", code, err, giveUp)
		}
	}
	// Without AllowPrivate, the loopback server is refused at dial time too.
	s.AllowPrivate = false
	if err := s.Send(context.Background(), srv.URL, "msg_1", body); !errors.Is(err, ErrGiveUp) {
		t.Fatalf("loopback delivery: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	var total time.Duration
	for a := 1; a < 15; a++ {
		total += Backoff(10*time.Second, a)
	}
	if total < 16*time.Hour || total > 40*time.Hour {
		t.Fatalf("14 retries span %v, want about a day", total)
	}
}

// FuzzVerify: a signature verifies only the message it signs; a header of
// any shape, with the right signature among others, verifies; a header
// without it never does.
func FuzzVerify(f *testing.F) {
	f.Add("msg_1", int64(1700000000), []byte(`{"type":"generation.completed"}`), "v1,AAAA")
	f.Add("", int64(0), []byte{}, "")
	secret := Secret([]byte("0123456789abcdef0123456789abcdef"))
	f.Fuzz(func(t *testing.T, id string, ts int64, body []byte, header string) {
		sig := Sign(secret, id, ts, body)
		if !Verify(secret, id, ts, body, header+" "+sig) {
			t.Fatalf("the signature among %q does not verify", header)
		}
		if Verify(secret, id, ts, body, header) && !strings.Contains(header, sig) {
			t.Fatalf("header %q verifies without the signature", header)
		}
		if Verify(secret, id+"x", ts, body, sig) {
			t.Fatal("a signature verifies another message")
		}
	})
}
