package auth

import (
	"context"
	"strings"
	"testing"

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
func (m memStore) Keys(context.Context) ([]*Key, error)    { return nil, nil }
func (m memStore) RevokeKey(context.Context, string) error { return nil }

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
