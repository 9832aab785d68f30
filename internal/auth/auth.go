// Package auth holds API keys: how they are made, how they are stored (only
// as hashes) and how a bearer token becomes a Key.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"stillmotion/internal/fault"
)

// Key is an API key's record. The key itself is never stored.
type Key struct {
	ID      string
	Name    string
	Hash    string // hex SHA-256 of the key
	Credits int64  // balance; meaningless when Unlimited
	// Unlimited keys are never debited: the bootstrap keys from
	// STILLMOTION_API_KEYS and keys created without a credit balance.
	Unlimited bool
	Created   time.Time
	Revoked   *time.Time
}

// Store persists keys.
type Store interface {
	// CreateKey stores k. It returns a fault.Conflict error if a live key
	// has the same name.
	CreateKey(ctx context.Context, k *Key) error
	// KeyByHash returns the live (unrevoked) key with the given hash, or a
	// fault.NotFound error.
	KeyByHash(ctx context.Context, hash string) (*Key, error)
	// Keys lists all keys, revoked ones included, oldest first.
	Keys(ctx context.Context) ([]*Key, error)
	// RevokeKey revokes the live key whose ID or name is idOrName, or returns
	// a fault.NotFound error.
	RevokeKey(ctx context.Context, idOrName string) error
}

// keyPrefix marks stillmotion keys so they are recognisable in logs and
// secret scanners.
const keyPrefix = "sm_"

// NewSecret returns a new random API key: "sm_" and 32 base62 characters
// (190 bits).
func NewSecret() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	var b [32]byte
	out := make([]byte, 0, len(keyPrefix)+len(b))
	out = append(out, keyPrefix...)
	for len(out) < cap(out) {
		rand.Read(b[:])
		for _, c := range b {
			// Rejection sampling keeps the choice uniform: 248 = 4*62.
			if c < 248 && len(out) < cap(out) {
				out = append(out, alphabet[c%62])
			}
		}
	}
	return string(out)
}

// Hash returns the stored form of a key. Keys are long random strings, so a
// fast hash is enough: there is nothing to brute-force.
func Hash(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Authenticator turns bearer tokens into keys: the bootstrap keys given at
// start (unlimited), then the stored keys.
type Authenticator struct {
	store     Store
	bootstrap map[string]*Key // by hash
}

// NewAuthenticator returns an Authenticator over store that also accepts the
// bootstrap secrets (STILLMOTION_API_KEYS) with unlimited credits.
func NewAuthenticator(store Store, bootstrap []string) *Authenticator {
	a := &Authenticator{store: store, bootstrap: map[string]*Key{}}
	for _, s := range bootstrap {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		h := Hash(s)
		// The ID is derived from the hash so the same bootstrap key owns the
		// same generations across restarts.
		a.bootstrap[h] = &Key{ID: "env_" + h[:16], Name: "bootstrap", Hash: h, Unlimited: true}
	}
	return a
}

// Authenticate returns the key for the Authorization header value header
// ("Bearer <key>"), or a fault.Unauthenticated error saying what is wrong.
func (a *Authenticator) Authenticate(ctx context.Context, header string) (*Key, error) {
	scheme, secret, ok := strings.Cut(strings.TrimSpace(header), " ")
	if header == "" {
		return nil, fault.E(fault.Unauthenticated, "Missing API key: send it in the Authorization header as 'Bearer <key>'")
	}
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, fault.E(fault.Unauthenticated, "Malformed Authorization header: expected 'Bearer <key>'")
	}
	h := Hash(strings.TrimSpace(secret))
	for bh, k := range a.bootstrap {
		if subtle.ConstantTimeCompare([]byte(bh), []byte(h)) == 1 {
			return k, nil
		}
	}
	k, err := a.store.KeyByHash(ctx, h)
	if fault.KindOf(err) == fault.NotFound {
		return nil, fault.E(fault.Unauthenticated, "Invalid API key: it is unknown or revoked; create one with 'stillmotion keys create'")
	}
	return k, err
}
