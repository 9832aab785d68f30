package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"stillmotion/internal/fault"
)

// memStore is an in-memory Store for this package's tests only; the real
// stores are tested by the store package's suite.
type memStore map[string]*Key

func (m memStore) CreateKey(_ context.Context, k *Key) error { m[k.Hash] = k; return nil }
func (m memStore) KeyByHash(_ context.Context, h string) (*Key, error) {
	if k, ok := m[h]; ok && k.Revoked == nil {
		return k, nil
	}
	return nil, fault.E(fault.NotFound, "no such key")
}
func (m memStore) Keys(context.Context) ([]*Key, error) { return nil, nil }
func (m memStore) RevokeKey(_ context.Context, idOrName string) error {
	for _, k := range m {
		if k.ID == idOrName || k.Name == idOrName {
			now := time.Now()
			k.Revoked = &now
			return nil
		}
	}
	return fault.E(fault.NotFound, "no such key")
}

func TestAuthenticate(t *testing.T) {
	stored := NewSecret()
	st := memStore{}
	st.CreateKey(context.Background(), &Key{ID: "key_1", Hash: Hash(stored), Credits: 5})
	a := NewAuthenticator(st, []string{" boot ", ""})
	tests := []struct {
		name    string
		header  string
		wantID  string
		wantMsg string
	}{
		{"stored key", "Bearer " + stored, "key_1", ""},
		{"bootstrap key, trimmed", "Bearer boot", "env_" + Hash("boot")[:16], ""},
		{"scheme is case-insensitive", "bearer boot", "env_" + Hash("boot")[:16], ""},
		{"missing", "", "", "Missing API key"},
		{"no scheme", stored, "", "Malformed Authorization header"},
		{"basic auth", "Basic dXNlcjpwYXNz", "", "Malformed Authorization header"},
		{"empty token", "Bearer ", "", "Malformed Authorization header"},
		{"unknown", "Bearer sm_nope", "", "Invalid API key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := a.Authenticate(context.Background(), tt.header)
			if tt.wantMsg != "" {
				if fault.KindOf(err) != fault.Unauthenticated || !strings.Contains(fault.MessageOf(err), tt.wantMsg) {
					t.Fatalf("err = %v, want Unauthenticated %q", err, tt.wantMsg)
				}
				return
			}
			if err != nil || k.ID != tt.wantID {
				t.Fatalf("got %+v, %v; want %s", k, err, tt.wantID)
			}
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	if a == b || len(a) != 35 || !strings.HasPrefix(a, "sm_") {
		t.Fatalf("secrets %q %q", a, b)
	}
	if len(Hash(a)) != 64 || Hash(a) == Hash(b) {
		t.Fatal("hash")
	}
}

// TestRevocation checks how soon a revoked key stops working: at once when
// revoked through the Authenticator, within CacheTTL when revoked
// elsewhere (straight in the store, as the keys command does).
func TestRevocation(t *testing.T) {
	ctx := context.Background()
	st := memStore{}
	secrets := map[string]string{}
	for _, id := range []string{"here", "elsewhere"} {
		secrets[id] = NewSecret()
		st.CreateKey(ctx, &Key{ID: id, Name: id, Hash: Hash(secrets[id])})
	}
	now := time.Unix(1_800_000_000, 0)
	a := NewAuthenticator(st, nil)
	a.Now = func() time.Time { return now }
	works := func(id string) bool {
		k, err := a.Authenticate(ctx, "Bearer "+secrets[id])
		if err != nil && fault.KindOf(err) != fault.Unauthenticated {
			t.Fatal(err)
		}
		return err == nil && k.ID == id
	}
	for id := range secrets {
		if !works(id) {
			t.Fatalf("key %s does not work before revocation", id)
		}
	}
	if err := a.Revoke(ctx, "here"); err != nil {
		t.Fatal(err)
	}
	if works("here") {
		t.Error("a key revoked through the Authenticator still works")
	}
	if !works("elsewhere") {
		t.Fatal("key elsewhere does not work before revocation")
	}
	st.RevokeKey(ctx, "elsewhere")
	if !works("elsewhere") {
		t.Error("a key revoked elsewhere stopped working before its cache entry expired: is the cache used?")
	}
	now = now.Add(CacheTTL)
	if works("elsewhere") {
		t.Errorf("a key revoked elsewhere still works after %v", CacheTTL)
	}
}

// TestWorkerTokenRevokedAtOnce: a worker token revoked elsewhere is
// refused at its next call, cache or not: it must not take another job.
func TestWorkerTokenRevokedAtOnce(t *testing.T) {
	ctx := context.Background()
	st := memStore{}
	secret := NewSecret()
	st.CreateKey(ctx, &Key{ID: "wrk_1", Name: "gpu", Hash: Hash(secret), Worker: true, Queues: []string{"render_builtin"}})
	a := NewAuthenticator(st, nil)
	if k, err := a.Authenticate(ctx, "Bearer "+secret); err != nil || !k.Worker {
		t.Fatalf("the worker token: %+v, %v", k, err)
	}
	st.RevokeKey(ctx, "gpu")
	if _, err := a.Authenticate(ctx, "Bearer "+secret); fault.KindOf(err) != fault.Unauthenticated {
		t.Errorf("a revoked worker token's next call: %v, want Unauthenticated", err)
	}
}

// versionedStore is a memStore that says when it changed.
type versionedStore struct {
	memStore
	version int64
}

func (s *versionedStore) Version(context.Context) (int64, bool, error) { return s.version, true, nil }

// TestRevocationSeenByVersion: over a VersionedStore, a key revoked
// elsewhere stops working as soon as the store's version changes.
func TestRevocationSeenByVersion(t *testing.T) {
	ctx := context.Background()
	st := &versionedStore{memStore: memStore{}}
	secret := NewSecret()
	st.CreateKey(ctx, &Key{ID: "k", Name: "k", Hash: Hash(secret)})
	a := NewAuthenticator(st, nil)
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal(err)
	}
	st.RevokeKey(ctx, "k")
	if _, err := a.Authenticate(ctx, "Bearer "+secret); err != nil {
		t.Fatal("the cache was not used while the version stood still")
	}
	st.version++
	if _, err := a.Authenticate(ctx, "Bearer "+secret); fault.KindOf(err) != fault.Unauthenticated {
		t.Errorf("revoked key after the version changed: %v, want Unauthenticated", err)
	}
}

// TestUnknownKeysCached checks that a bad key is remembered as bad, and
// that the cache stays bounded.
func TestUnknownKeysCached(t *testing.T) {
	ctx := context.Background()
	st := memStore{}
	a := NewAuthenticator(st, nil)
	for i := range maxCached + 10 {
		if _, err := a.Authenticate(ctx, "Bearer "+NewSecret()); fault.KindOf(err) != fault.Unauthenticated {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if n := len(a.cache); n == 0 || n > maxCached {
		t.Fatalf("%d keys cached, want 1..%d", n, maxCached)
	}
	// A key created after it was found unknown works once that entry expires.
	s := NewSecret()
	a.Authenticate(ctx, "Bearer "+s)
	st.CreateKey(ctx, &Key{ID: "late", Hash: Hash(s)})
	a.Now = func() time.Time { return time.Now().Add(CacheTTL) }
	if k, err := a.Authenticate(ctx, "Bearer "+s); err != nil || k.ID != "late" {
		t.Fatalf("late key: %+v, %v", k, err)
	}
}
