#!/usr/bin/env bash
# The deploy tool (deploy_prefect_flows.py) with Pants started once per deploy: what CI runs (docs/deploy.md).
#
#     tools/deploy_prefect_flows.sh --environment staging --pipeline rj_smtr__gps_brt --dry-run
#
# `./pants run tools/deploy_prefect_flows.py -- ...` holds the repository's daemon for as long as
# the tool runs, so the tool's own Pants runs (the plan's query, the images) need a second Pants start.
# Here one pantsd of this deploy's own serves everything:
#   1. `./pants --pantsd package` of the tool's requirements (:deploy-tool-deps) starts it;
#   2. the tool runs from that pex with the checkout's sources, and $PIPELINES_PANTSD_DIR routes its nested
#      Pants runs through the same daemon (pipeline_platform/pants.py);
#   3. the daemon is stopped by pid when the tool ends (however it ends); the tool's exit code is returned.
# Same flags and PIPELINES_DEPLOY_* variables as deploy_prefect_flows.py.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DAEMON_DIR="${REPO}/.pids/deploy-$$"
TARGET="tools:deploy-tool-deps"
PEX="${REPO}/dist/tools/deploy-tool-deps.pex"
STOP_TIMEOUT_S=15

log() { printf '[deploy] %s\n' "$*" >&2; }

# shellcheck disable=SC2317  # both run by the EXIT trap
alive() { kill -0 "$1" 2>/dev/null; }

# shellcheck disable=SC2317
stop_daemon() {
  local pid_file pid waited
  local -a pids=()
  for pid_file in "${DAEMON_DIR}"/*/pantsd/pid; do
    [[ -f "${pid_file}" ]] || continue
    pid="$(tr -dc '0-9' <"${pid_file}")"
    [[ -n "${pid}" ]] && pids+=("${pid}")
  done
  for pid in "${pids[@]}"; do kill -TERM "${pid}" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    waited=0
    while alive "${pid}" && ((waited < STOP_TIMEOUT_S * 10)); do
      sleep 0.1
      waited=$((waited + 1))
    done
    if alive "${pid}"; then kill -KILL "${pid}" 2>/dev/null || true; fi
  done
  rm -rf "${DAEMON_DIR}"
}
trap stop_daemon EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

cd "${REPO}"
./pants --pantsd --pants-subprocessdir="${DAEMON_DIR}" package "${TARGET}"
[[ -f "${PEX}/__main__.py" ]] || {
  log "./pants package ${TARGET} wrote no ${PEX#"${REPO}/"}"
  exit 1
}

# The pex's shebang names python3.13 (pants.toml's interpreter constraints); where the PATH has none that runs
# (pyenv installs not activated), the pex runs with the one Pants found the same way ([python-bootstrap]).
python=""
for candidate in python3.13 "$(pyenv root 2>/dev/null || echo "${HOME}/.pyenv")"/versions/3.13*/bin/python3.13; do
  if "${candidate}" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null; then
    python="${candidate}"
    break
  fi
done
[[ -n "${python}" ]] || {
  log "no CPython 3.13 (python3.13 on the PATH or a pyenv install) to run ${PEX#"${REPO}/"} with"
  exit 1
}

status=0
# PEX_ROOT: Pants's own pex cache (restored in CI), whose installed wheels the pex's venv is built from.
PIPELINES_PANTSD_DIR="${DAEMON_DIR}" \
  PIPELINES_REPO_ROOT="${REPO}" \
  PEX_ROOT="${PEX_ROOT:-${XDG_CACHE_HOME:-${HOME}/.cache}/pants/named_caches/pex_root}" \
  PEX_EXTRA_SYS_PATH="${REPO}:${REPO}/tools" \
  "${python}" "${PEX}/__main__.py" "$@" || status=$?
exit "${status}"
