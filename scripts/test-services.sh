#!/usr/bin/env bash
# Makes sure the services the test suite needs are reachable on loopback, and
# prints the environment the tests should use (eval "$(scripts/test-services.sh)").
#
# PostgreSQL: uses the server already listening on 127.0.0.1:5432 when there is
# one; otherwise starts the installed Debian cluster, or installs PostgreSQL
# from Debian's packages first (root only), and gives the postgres role a
# password so TCP logins work whatever pg_hba.conf says.
set -euo pipefail

log() { echo "test-services: $*" >&2; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

as_postgres() {
  if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$*"; fi
}

ensure_postgres() {
  if command -v pg_isready >/dev/null 2>&1 && pg_up; then
    return 0
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
      log "PostgreSQL is not installed and this is not root: install postgresql or set CONCORD_TEST_POSTGRES"
      return 1
    fi
    log "installing PostgreSQL from Debian's packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  fi
  local ver
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 30); do pg_up && break; sleep 1; done
  pg_up || { log "PostgreSQL did not come up"; return 1; }
  if [ "$(id -u)" = 0 ]; then
    as_postgres psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null || true
  fi
}

if [ -z "${CONCORD_TEST_POSTGRES:-}" ]; then
  ensure_postgres
  echo "export CONCORD_TEST_POSTGRES='postgres://postgres:postgres@127.0.0.1:5432/postgres?sslmode=disable'"
fi
echo "export CONCORD_REQUIRE_POSTGRES=1"
