# Sourced by scripts/test.sh: makes sure the services the distributed-mode
# tests run against are there, and tells the tests where they are.
#
#   PostgreSQL: the machine's service on 127.0.0.1:5432 (started if it is
#   installed but stopped; scripts/setup.sh --test installs it). If the
#   postgres user cannot log in over TCP without a password, a role
#   stillmotion_test (CREATEDB) is created and used instead. Override with
#   STILLMOTION_TEST_POSTGRES_URL.
#
#   S3: the Versity S3 Gateway, built once from the Go module proxy at a
#   pinned version into ~/.cache/stillmotion/ (the tests start it on loopback).

versitygw_version=v1.8.0 # keep in step with internal/blob/blobtest.Version

pg_ok() { psql "$1" -Atqc 'SELECT 1' >/dev/null 2>&1; }

as_postgres() {
  if [[ $(id -u) == 0 ]]; then su postgres -s /bin/sh -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

ensure_postgres() {
  local url=${STILLMOTION_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
  if ! pg_ok "$url" && command -v pg_lsclusters >/dev/null; then
    echo "test: starting PostgreSQL" >&2
    local sudo=""
    [[ $(id -u) == 0 ]] || sudo="sudo"
    pg_lsclusters -h | while read -r ver name _; do
      $sudo pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start 2>/dev/null || true
    done
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  if ! pg_ok "$url" && [[ -z "${STILLMOTION_TEST_POSTGRES_URL:-}" ]]; then
    # Password authentication over TCP: a role of our own, with a password.
    as_postgres "psql -q" >/dev/null 2>&1 <<'SQL' || true
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stillmotion_test') THEN
    CREATE ROLE stillmotion_test LOGIN CREATEDB PASSWORD 'stillmotion_test';
  END IF;
END $$;
SQL
    url="postgres://stillmotion_test:stillmotion_test@127.0.0.1:5432/postgres?sslmode=disable"
  fi
  if ! pg_ok "$url"; then
    echo "test: PostgreSQL does not answer at $url; install it (scripts/setup.sh --test) or set STILLMOTION_TEST_POSTGRES_URL" >&2
    return 1
  fi
  export STILLMOTION_TEST_POSTGRES_URL=$url
}

ensure_versitygw() {
  local dir=${XDG_CACHE_HOME:-$HOME/.cache}/stillmotion/versitygw-$versitygw_version
  if [[ -x "$dir/versitygw" ]]; then return 0; fi
  echo "test: building versitygw $versitygw_version into $dir (once, about 1.5 minutes)" >&2
  mkdir -p "$dir"
  local tmp
  tmp=$(mktemp -d)
  # Outside our module, so that our go.mod plays no part.
  (cd "$tmp" && GOBIN="$dir" GOFLAGS=-mod=mod GOWORK=off CGO_ENABLED=0 go install "github.com/versity/versitygw/cmd/versitygw@$versitygw_version")
  rm -rf "$tmp"
}

ensure_postgres
ensure_versitygw
export STILLMOTION_TEST_REQUIRE_SERVICES=1
