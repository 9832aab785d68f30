// Package storetest gives tests a PostgreSQL database of their own: a fresh
// database on the server named by STILLMOTION_TEST_POSTGRES_URL (by default
// the machine's service, postgres://postgres@127.0.0.1:5432/postgres), dropped
// when the test ends, so tests are isolated and may run in parallel.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server the tests use unless told otherwise.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Postgres creates an empty database for the test and returns its URL. When
// no server answers, it skips the test, or fails it when
// STILLMOTION_TEST_REQUIRE_SERVICES=1 (as scripts/test.sh sets).
func Postgres(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("STILLMOTION_TEST_POSTGRES_URL")
	if admin == "" {
		admin = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv("STILLMOTION_TEST_REQUIRE_SERVICES") == "1" {
			t.Fatalf("no PostgreSQL at %s: %v", admin, err)
		}
		t.Skipf("no PostgreSQL at %s (%v); set STILLMOTION_TEST_POSTGRES_URL, or STILLMOTION_TEST_REQUIRE_SERVICES=1 to make this a failure", admin, err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	rand.Read(b)
	name := "stillmotion_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dropping database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
