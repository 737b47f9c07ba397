#!/usr/bin/env bash
# Start BuildGrid (a REAPI server) on 127.0.0.1 as the remote cache of Pants (docs/ci.md): the remote cache's
# test starts its own, and a developer may run one to share a cache between clones.
#
#   eval "$(bash build-support/ci/start-buildgrid.sh)"      # then ./pants reads and writes the cache
#   bash build-support/ci/start-buildgrid.sh --install-only  # the venv only (setup-machine.sh)
#
# Installs the pinned BuildGrid (buildgrid-requirements.txt) into its own venv once, then starts
# `bgd server start buildgrid.yml` in the background (in-memory LRU CAS and action cache, no authentication)
# and waits until it answers. Idempotent: reuses a server already answering on the port. On stdout, its only
# output (progress goes to stderr): with --install-only, PIPELINES_TEST_BUILDGRID=<bgd>; otherwise the
# `export PANTS_REMOTE_...=` lines that switch the cache on for ./pants.
#
# Overridable: BUILDGRID_PORT (50051), BUILDGRID_INSTANCE (empty: the server's default instance),
# BUILDGRID_VENV (${XDG_CACHE_HOME:-~/.cache}/rio-pipelines/buildgrid/venv), BUILDGRID_RUN_DIR (log and pid:
# the venv's parent), BUILDGRID_WAIT_SECONDS (60). Stop it with: kill "$(cat <run dir>/server.pid)".
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${BUILDGRID_PORT:-50051}"
instance="${BUILDGRID_INSTANCE:-}"
venv="${BUILDGRID_VENV:-${XDG_CACHE_HOME:-${HOME}/.cache}/rio-pipelines/buildgrid/venv}"
run_dir="${BUILDGRID_RUN_DIR:-$(dirname "${venv}")}"
wait_seconds="${BUILDGRID_WAIT_SECONDS:-60}"
requirements="${here}/buildgrid-requirements.txt"
bgd="${venv}/bin/bgd"

log() { echo "start-buildgrid: $*" >&2; }

install() {
  local stamp="${venv}/installed.txt"
  if [[ -x "${bgd}" ]] && cmp -s "${requirements}" "${stamp}"; then
    return 0
  fi
  log "installing $(grep -m 1 '^buildgrid==' "${requirements}") into ${venv}."
  rm -rf "${venv}"
  mkdir -p "$(dirname "${venv}")"
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    log "BuildGrid needs CPython >= 3.11 as python3; this one is $(python3 --version 2>&1)."
    exit 1
  fi
  python3 -m venv "${venv}"
  if ! "${venv}/bin/pip" install --quiet --disable-pip-version-check -r "${requirements}" >&2; then
    rm -rf "${venv}"
    log "pip could not install BuildGrid (its error above); check that pip reaches the package index."
    exit 1
  fi
  cp "${requirements}" "${stamp}"
}

answers() {
  "${bgd}" capabilities --remote "http://127.0.0.1:${port}" --instance-name "${instance}" >/dev/null 2>&1
}

print_exports() {
  printf 'export %s=%q\n' PANTS_REMOTE_CACHE_READ true PANTS_REMOTE_CACHE_WRITE true \
    PANTS_REMOTE_STORE_ADDRESS "grpc://127.0.0.1:${port}" PANTS_REMOTE_INSTANCE_NAME "${instance}"
}

install
if [[ "${1:-}" == "--install-only" ]]; then
  echo "PIPELINES_TEST_BUILDGRID=${bgd}"
  exit 0
fi

if answers; then
  log "a REAPI server already answers on 127.0.0.1:${port} (instance '${instance}')."
  print_exports
  exit 0
fi

mkdir -p "${run_dir}"
log "starting BuildGrid on 127.0.0.1:${port} (instance '${instance}'); log: ${run_dir}/server.log."
BUILDGRID_PORT="${port}" BUILDGRID_INSTANCE="${instance}" setsid "${bgd}" server start "${here}/buildgrid.yml" \
  </dev/null >>"${run_dir}/server.log" 2>&1 &
echo "$!" >"${run_dir}/server.pid"

for _ in $(seq 1 "$((wait_seconds * 2))"); do
  if answers; then
    log "ready: eval the export lines on stdout to switch the cache on."
    print_exports
    exit 0
  fi
  if ! kill -0 "$(cat "${run_dir}/server.pid")" 2>/dev/null; then
    log "BuildGrid exited; last lines of ${run_dir}/server.log:"
    tail -n 20 "${run_dir}/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
log "BuildGrid did not answer on 127.0.0.1:${port} within ${wait_seconds}s; see ${run_dir}/server.log"
exit 1
