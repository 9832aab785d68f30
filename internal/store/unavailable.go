package store

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"stillmotion/internal/fault"
)

// unavailableMessage is what a client is told while PostgreSQL cannot be
// reached.
const unavailableMessage = "The database is unavailable; retry after the time in Retry-After"

// unavailable returns err as a fault.Unavailable error when it says that
// PostgreSQL cannot be reached now, so that a client gets a 503 to retry
// and a worker puts its render back instead of failing it. Any other err,
// and any err once ctx has ended (the caller's cancel or deadline, which
// keep their own kinds), comes back as it is.
func unavailable(ctx context.Context, err error) error {
	if err == nil || ctx.Err() != nil || !lostDatabase(err) {
		return err
	}
	return fault.Wrap(fault.Unavailable, unavailableMessage, err)
}

// lostDatabase reports whether err says the database is down, starting,
// stopping, out of connections or read-only (a standby, during a
// failover), or the connection to it failed or timed out: trouble that
// passes, as opposed to a statement's own error.
func lostDatabase(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "57P01", "57P02", "57P03", // admin_shutdown, crash_shutdown, cannot_connect_now
			"53300", // too_many_connections
			"25006": // read_only_sql_transaction
			return true
		}
		// Class 08: connection exceptions. Any other error the server
		// sent, at connect (a wrong password, a missing database) or
		// later, is not passing trouble.
		return strings.HasPrefix(pe.Code, "08")
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}
