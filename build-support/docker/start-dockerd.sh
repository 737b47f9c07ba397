#!/usr/bin/env bash
# Start a local Docker engine if none answers yet.
#
# Idempotent: exits 0 right away when `docker info` already works. Otherwise
# launches `dockerd` in the background (logging to a file under $TMPDIR) and
# waits up to DOCKERD_WAIT_SECONDS (default 60) for it to answer.
# Needs root (dockerd) and Docker's engine (Debian packages it for bookworm).
set -euo pipefail

wait_seconds="${DOCKERD_WAIT_SECONDS:-60}"
log_dir="${TMPDIR:-/tmp}"
log_file="${DOCKERD_LOG:-${log_dir}/dockerd.log}"

if ! command -v docker >/dev/null 2>&1; then
  echo "start-dockerd: the 'docker' client is not installed (install the Docker engine package of the distribution)." >&2
  exit 1
fi

if docker info >/dev/null 2>&1; then
  echo "start-dockerd: Docker engine already running."
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-dockerd: no Docker engine answers and 'dockerd' is not installed" \
       "(install the Docker engine package of the distribution)." >&2
  exit 1
fi

# A dockerd may have been started moments ago (e.g. by a concurrent call) and
# not answer yet: only launch a new one if none is running.
if pgrep -x dockerd >/dev/null 2>&1; then
  echo "start-dockerd: a dockerd process exists but does not answer yet; waiting for it."
else
  mkdir -p "$(dirname "$log_file")"
  echo "start-dockerd: starting dockerd (log: ${log_file})."
  # setsid + nohup: the daemon outlives this script and its terminal.
  setsid nohup dockerd >>"$log_file" 2>&1 </dev/null &
fi

for _ in $(seq 1 "$wait_seconds"); do
  if docker info >/dev/null 2>&1; then
    echo "start-dockerd: Docker engine is up."
    exit 0
  fi
  sleep 1
done

echo "start-dockerd: dockerd did not answer within ${wait_seconds}s." \
     "See ${log_file} (last lines below); dockerd usually needs root." >&2
tail -n 20 "$log_file" >&2 2>/dev/null || true
exit 1
