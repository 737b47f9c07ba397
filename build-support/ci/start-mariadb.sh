#!/usr/bin/env bash
# Start a local MariaDB server for the tests and benchmarks, and make sure the user and database exist.
#
# Idempotent: reuses a running server (or starts Debian's mariadbd on its data directory, initialised if
# missing), listens on 127.0.0.1 only, creates the user/database if missing, then prints the URL to export
# as PIPELINES_TEST_MARIADB_URL on stdout (its only line there; progress goes to stderr):
#   export PIPELINES_TEST_MARIADB_URL="$(bash build-support/ci/start-mariadb.sh)"
# Needs root and Debian's mariadb-server package (root logs in through the unix socket).
#
# The user may create and drop the databases named `<database>_*` (one per test, dropped after it).
# Overridable: MARIADB_PORT (3306), MARIADB_DATADIR (/var/lib/mysql),
# PIPELINES_MARIADB_USER / PIPELINES_MARIADB_PASSWORD / PIPELINES_MARIADB_DB (pipelines).
set -euo pipefail

port="${MARIADB_PORT:-3306}"
datadir="${MARIADB_DATADIR:-/var/lib/mysql}"
db_user="${PIPELINES_MARIADB_USER:-pipelines}"
db_password="${PIPELINES_MARIADB_PASSWORD:-pipelines}"
db_name="${PIPELINES_MARIADB_DB:-pipelines}"
wait_seconds="${MARIADB_WAIT_SECONDS:-30}"
socket=/run/mysqld/mysqld.sock
log_file=/var/log/mysql/pipelines-mariadbd.log

log() { echo "start-mariadb: $*" >&2; }

for tool in mariadbd mariadb mariadb-admin mariadb-install-db; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    log "$tool not found: MariaDB is not installed (on Debian: apt-get install mariadb-server)."
    exit 1
  fi
done

# A drop-in (Debian's my.cnf includes mariadb.conf.d/) keeps the package's own files untouched.
conf_file=/etc/mysql/mariadb.conf.d/99-pipelines.cnf
wanted_conf="$(printf '[mysqld]\nbind-address = 127.0.0.1\nport = %s\nsocket = %s\ndatadir = %s' \
  "$port" "$socket" "$datadir")"
conf_changed=0
if [ "$(cat "$conf_file" 2>/dev/null || true)" != "$wanted_conf" ]; then
  mkdir -p "$(dirname "$conf_file")"
  echo "$wanted_conf" >"$conf_file"
  conf_changed=1
fi

ping() { mariadb-admin --protocol=socket --socket="$socket" -uroot ping >/dev/null 2>&1; }

if ping && [ "$conf_changed" = 1 ]; then
  log "restarting MariaDB to listen on 127.0.0.1:${port} only."
  mariadb-admin --protocol=socket --socket="$socket" -uroot shutdown
  for _ in $(seq 1 "$wait_seconds"); do ping || break; sleep 1; done
fi

if ping; then
  log "MariaDB already running."
else
  if [ ! -d "${datadir}/mysql" ]; then
    log "initialising the data directory ${datadir}."
    mkdir -p "$datadir"
    chown mysql:mysql "$datadir"
    mariadb-install-db --user=mysql --datadir="$datadir" --auth-root-authentication-method=socket \
      --skip-test-db >/dev/null
  fi
  mkdir -p /run/mysqld "$(dirname "$log_file")"
  chown mysql:mysql /run/mysqld
  log "starting MariaDB on 127.0.0.1:${port} (log: ${log_file})."
  # Detached from this script's stdout/stderr, so `$(start-mariadb.sh)` returns once the server is up.
  setsid mariadbd --user=mysql </dev/null >>"$log_file" 2>&1 &
  for _ in $(seq 1 "$wait_seconds"); do
    ping && break
    sleep 1
  done
  if ! ping; then
    log "MariaDB did not answer within ${wait_seconds}s; see ${log_file}"
    exit 1
  fi
fi

sql_admin() { mariadb --protocol=socket --socket="$socket" -uroot --batch --skip-column-names; }

# `_` is a LIKE wildcard in a grant's database name: escaped, `pipelines\_%` matches pipelines_<anything>.
test_databases="${db_name//_/\\_}\\_%"
sql_admin <<SQL
CREATE DATABASE IF NOT EXISTS \`${db_name}\` CHARACTER SET utf8mb4;
CREATE USER IF NOT EXISTS '${db_user}'@'127.0.0.1' IDENTIFIED BY '${db_password}';
CREATE USER IF NOT EXISTS '${db_user}'@'localhost' IDENTIFIED BY '${db_password}';
GRANT ALL PRIVILEGES ON \`${db_name}\`.* TO '${db_user}'@'127.0.0.1', '${db_user}'@'localhost';
GRANT ALL PRIVILEGES ON \`${test_databases}\`.* TO '${db_user}'@'127.0.0.1', '${db_user}'@'localhost';
SQL

url="mysql+pymysql://${db_user}:${db_password}@127.0.0.1:${port}/${db_name}"
log "ready: export PIPELINES_TEST_MARIADB_URL=${url}"
echo "$url"
