#!/usr/bin/env bash
# Runs the whole test suite on SQLite and PostgreSQL, installing what it needs first:
# a Python virtualenv (.venv) with the real clients the interop tests drive, the Node.js
# clients and servers in tests/node, and Debian's chromium for the browser suite.
# PostgreSQL: $JUNCTION_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432); each test
# creates its own database there. Unreachable PostgreSQL is a failure, unless
# JUNCTION_TEST_SKIP_POSTGRES=1 is set (never in CI).
set -euo pipefail
cd "$(dirname "$0")/.."

PG="${JUNCTION_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432}"
export JUNCTION_TEST_POSTGRES="$PG"

pg_ok() { python3 - "$PG" <<'PY'
import socket, sys, urllib.parse
u = urllib.parse.urlparse(sys.argv[1])
try:
    socket.create_connection((u.hostname or "127.0.0.1", u.port or 5432), timeout=3).close()
except OSError:
    sys.exit(1)
PY
}

# The databases tests create (each test its own; a test process cannot drop its own on exit):
# dropped when the run ends, and any an interrupted run left behind before it starts.
drop_test_databases() {
  command -v psql >/dev/null || return 0
  psql "$PG/postgres" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'junction_test_%' OR datname LIKE 'junction_bench_%'" 2>/dev/null |
    while read -r db; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true; done
}

if pg_ok; then
  drop_test_databases
  trap drop_test_databases EXIT
else
  echo "################################################################" >&2
  echo "## PostgreSQL is NOT reachable at $PG" >&2
  if [ "${JUNCTION_TEST_SKIP_POSTGRES:-}" != "1" ] || [ "${CI:-}" = "true" ]; then
    echo "## Start it, or set JUNCTION_TEST_SKIP_POSTGRES=1 to skip its tests." >&2
    echo "################################################################" >&2
    exit 1
  fi
  echo "## JUNCTION_TEST_SKIP_POSTGRES=1: PostgreSQL tests will be SKIPPED." >&2
  echo "################################################################" >&2
fi

# Real clients, in a local virtualenv ignored by git.
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! cmp -s tests/python/requirements.txt .venv/.installed-requirements 2>/dev/null; then
  .venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
  cp tests/python/requirements.txt .venv/.installed-requirements
fi
export JUNCTION_TEST_PYTHON="$PWD/.venv/bin/python"

# Real Node.js clients and servers, in tests/node/node_modules (ignored by git), exactly as locked.
if ! cmp -s tests/node/package-lock.json tests/node/node_modules/.installed-lock 2>/dev/null; then
  (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  cp tests/node/package-lock.json tests/node/node_modules/.installed-lock
fi

# A real browser for the browser suite: Debian's chromium (driven by playwright-core from
# tests/node). Installed with apt when missing (as root, or through sudo).
if ! command -v "${JUNCTION_TEST_CHROMIUM:-chromium}" >/dev/null 2>&1 && [ "${JUNCTION_TEST_SKIP_BROWSER:-}" != "1" ]; then
  SUDO=""; [ "$(id -u)" = "0" ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --no-fail-fast "$@"
else
  cargo test --no-fail-fast "$@"
fi
