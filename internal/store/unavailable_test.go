package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"stillmotion/internal/fault"
)

func TestUnavailable(t *testing.T) {
	// A real refused connection: nothing listens on a port just closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, refused := pgx.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=disable")
	if refused == nil {
		t.Fatalf("connecting to %s succeeded", addr)
	}

	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection refused", refused, true},
		{"server shutting down", &pgconn.PgError{Code: "57P01"}, true},
		{"server starting up", fmt.Errorf("query: %w", &pgconn.PgError{Code: "57P03"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"a standby after a failover", &pgconn.PgError{Code: "25006"}, true},
		{"socket reset", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{"connection cut mid-reply", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"connection closed", pgconn.ErrConnClosed, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"syntax error", &pgconn.PgError{Code: "42601"}, false},
		{"wrong password", &pgconn.PgError{Code: "28P01"}, false},
		{"no rows", sql.ErrNoRows, false},
		{"a fault of the store's own", fault.E(fault.Conflict, "generation x has already ended"), false},
		{"anything else", errors.New("boom"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := unavailable(context.Background(), tt.err)
			if got := fault.KindOf(err) == fault.Unavailable; got != tt.want {
				t.Fatalf("unavailable(%v) is %v (kind %v), want Unavailable %v", tt.err, err, fault.KindOf(err), tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("unavailable(%v) = %v: the cause is lost", tt.err, err)
			}
			if tt.want && fault.MessageOf(err) != unavailableMessage {
				t.Errorf("message %q", fault.MessageOf(err))
			}
		})
	}

	// Once the caller's context has ended, its error keeps its own kind.
	done, stop := context.WithCancel(context.Background())
	stop()
	if err := unavailable(done, refused); err != refused {
		t.Errorf("with the caller's context cancelled: %v, want the error unchanged", err)
	}
	if unavailable(context.Background(), nil) != nil {
		t.Error("unavailable(nil) is not nil")
	}
}
