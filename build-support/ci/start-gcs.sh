#!/usr/bin/env bash
# Start a local GCS JSON API server (gcp-storage-emulator) for the lake's tests, with the bucket they use.
#
# Idempotent: reuses a server already answering on the port; otherwise installs the emulator at the version
# pinned in 3rdparty/python/pins/gcp-storage-emulator.txt into its own venv (once), starts it in the
# background on 127.0.0.1 (in memory, default bucket created) and waits for it. Prints
# PIPELINES_TEST_GCS_URL=<url> on stdout (its only line there; progress goes to stderr), the form
# setup-machine.sh exports:
#   export "$(bash build-support/ci/start-gcs.sh)"
#
# Overridable: GCS_PORT (9023), GCS_BUCKET (lake), GCS_HOME (venv, log and pid:
# ${XDG_CACHE_HOME:-~/.cache}/rio-pipelines/gcs-emulator), GCS_WAIT_SECONDS (60).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
port="${GCS_PORT:-9023}"
bucket="${GCS_BUCKET:-lake}"
home="${GCS_HOME:-${XDG_CACHE_HOME:-${HOME}/.cache}/rio-pipelines/gcs-emulator}"
wait_seconds="${GCS_WAIT_SECONDS:-60}"
url="http://127.0.0.1:${port}"
pins="${repo}/3rdparty/python/pins/gcp-storage-emulator.txt"

log() { echo "start-gcs: $*" >&2; }

answers() {
  python3 - "$url" "$bucket" <<'EOF'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"{sys.argv[1]}/storage/v1/b/{sys.argv[2]}", timeout=2) as response:
        sys.exit(0 if response.status == 200 else 1)
except Exception:
    sys.exit(1)
EOF
}

if answers; then
  log "a GCS API server already answers on ${url} with bucket ${bucket}."
  echo "PIPELINES_TEST_GCS_URL=${url}"
  exit 0
fi

# The pinned version and its dependencies, from the pin file (the closure is listed as comments).
requirements="$(sed -n -e 's/^#   //p' -e '/^[A-Za-z0-9]/p' "$pins")"
stamp="${home}/installed.txt"
if [ ! -x "${home}/venv/bin/gcp-storage-emulator" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$requirements" ]; then
  log "installing $(echo "$requirements" | head -n 1) into ${home}/venv."
  mkdir -p "$home"
  python3 -m venv "${home}/venv"
  # shellcheck disable=SC2086 # one requirement per word
  "${home}/venv/bin/pip" install --quiet --disable-pip-version-check $requirements >&2
  echo "$requirements" >"$stamp"
fi

log "starting the emulator on ${url} (in memory, bucket ${bucket}); log: ${home}/server.log."
setsid "${home}/venv/bin/gcp-storage-emulator" start --host 127.0.0.1 --port "$port" --in-memory \
  --default-bucket "$bucket" </dev/null >>"${home}/server.log" 2>&1 &
echo "$!" >"${home}/server.pid"

for _ in $(seq 1 "$((wait_seconds * 4))"); do
  if answers; then
    log "ready: export PIPELINES_TEST_GCS_URL=${url}"
    echo "PIPELINES_TEST_GCS_URL=${url}"
    exit 0
  fi
  if ! kill -0 "$(cat "${home}/server.pid")" 2>/dev/null; then
    log "the emulator exited; last lines of ${home}/server.log:"
    tail -n 20 "${home}/server.log" >&2
    exit 1
  fi
  sleep 0.25
done
log "the emulator did not answer ${url} within ${wait_seconds}s; see ${home}/server.log"
exit 1
