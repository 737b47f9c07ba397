#!/usr/bin/env bash
# Start a local PostgreSQL server for the tests and benchmarks, and make sure the role and database exist.
#
# Idempotent: reuses the newest installed PostgreSQL major version and its cluster (created if missing),
# listens on 127.0.0.1 only, creates the role/database if missing, then prints the URL to export as
# PIPELINES_TEST_POSTGRES_URL on stdout (its only line there; progress goes to stderr):
#   export PIPELINES_TEST_POSTGRES_URL="$(bash build-support/ci/start-postgres.sh)"
# Needs root (or the postgres user) and Debian's postgresql packages
# (postgresql-common's pg_* wrappers).
#
# Overridable: PG_CLUSTER (main), PG_PORT (5432, only used when creating the cluster),
# PIPELINES_PG_USER / PIPELINES_PG_PASSWORD / PIPELINES_PG_DB (pipelines).
set -euo pipefail

cluster="${PG_CLUSTER:-main}"
port_for_new_cluster="${PG_PORT:-5432}"
pg_user="${PIPELINES_PG_USER:-pipelines}"
pg_password="${PIPELINES_PG_PASSWORD:-pipelines}"
pg_db="${PIPELINES_PG_DB:-pipelines}"
wait_seconds="${PG_WAIT_SECONDS:-30}"

log() { echo "start-postgres: $*" >&2; }

if ! command -v pg_lsclusters >/dev/null 2>&1 || [ ! -d /usr/lib/postgresql ]; then
  log "PostgreSQL is not installed (on Debian: apt-get install postgresql)."
  exit 1
fi

version="$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' \
  | grep -E '^[0-9]+$' | sort -n | tail -n 1 || true)"
if [ -z "$version" ] || [ ! -x "/usr/lib/postgresql/${version}/bin/postgres" ]; then
  log "no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)."
  exit 1
fi

as_postgres() {
  if [ "$(id -un)" = "postgres" ]; then
    "$@"
  else
    runuser -u postgres -- "$@"
  fi
}

cluster_field() {
  # pg_lsclusters -h columns: version cluster port status owner datadir logfile
  pg_lsclusters -h | awk -v v="$version" -v c="$cluster" -v f="$1" '$1 == v && $2 == c { print $f }'
}

if [ -z "$(cluster_field 2)" ]; then
  log "creating cluster ${version}/${cluster} on port ${port_for_new_cluster}."
  pg_createcluster "$version" "$cluster" --port "$port_for_new_cluster" >/dev/null
fi

# A conf.d drop-in (Debian's postgresql.conf includes conf.d/) keeps the cluster's own files untouched.
conf_dir="/etc/postgresql/${version}/${cluster}/conf.d"
listen_conf="${conf_dir}/50-pipelines-listen.conf"
wanted_listen="listen_addresses = '127.0.0.1'"
conf_changed=0
if [ "$(cat "$listen_conf" 2>/dev/null || true)" != "$wanted_listen" ]; then
  mkdir -p "$conf_dir"
  echo "$wanted_listen" >"$listen_conf"
  conf_changed=1
fi

port="$(cluster_field 3)"
status="$(cluster_field 4)"
if [ "$status" = "online" ]; then
  if [ "$conf_changed" = 1 ]; then
    log "restarting cluster ${version}/${cluster} to listen on 127.0.0.1 only."
    pg_ctlcluster "$version" "$cluster" restart
  else
    log "cluster ${version}/${cluster} already running on port ${port}."
  fi
else
  log "starting cluster ${version}/${cluster} on port ${port}."
  pg_ctlcluster "$version" "$cluster" start
fi

for _ in $(seq 1 "$wait_seconds"); do
  if as_postgres psql -p "$port" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
    break
  fi
  sleep 1
done
if ! as_postgres psql -p "$port" -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
  log "PostgreSQL did not answer within ${wait_seconds}s; see /var/log/postgresql/postgresql-${version}-${cluster}.log"
  exit 1
fi

psql_admin() { as_postgres psql -p "$port" -d postgres -v ON_ERROR_STOP=1 -tA "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${pg_user}'")" != "1" ]; then
  log "creating role ${pg_user}."
  psql_admin -c "CREATE ROLE \"${pg_user}\" LOGIN PASSWORD '${pg_password}'" >/dev/null
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${pg_db}'")" != "1" ]; then
  log "creating database ${pg_db}."
  psql_admin -c "CREATE DATABASE \"${pg_db}\" OWNER \"${pg_user}\"" >/dev/null
fi

url="postgresql+psycopg://${pg_user}:${pg_password}@127.0.0.1:${port}/${pg_db}"
log "ready: export PIPELINES_TEST_POSTGRES_URL=${url}"
echo "$url"
