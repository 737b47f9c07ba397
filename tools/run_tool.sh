#!/usr/bin/env bash
# A platform tool (tools/<tool>.py) with Pants started once: what CI runs (docs/deploy.md).
#
#     tools/run_tool.sh deploy_prefect_flows --environment staging --pipeline rj_smtr__gps_brt --dry-run
#     tools/run_tool.sh affected_pipelines --since origin/master --graph mermaid
#
# `./pants run tools/<tool>.py -- ...` holds the repository's daemon for as long as the tool runs, so the
# tool's own Pants runs (the plan's query, the images) need a second Pants start. Here one pantsd serves all:
#   1. `./pants --pantsd package` of the tools' requirements (:deploy-tool-deps) starts it (or finds it);
#   2. the tool runs from that pex with the checkout's sources, and $PIPELINES_PANTSD_DIR routes its nested
#      Pants runs through the same daemon (pipeline_platform/pants.py);
#   3. the daemon is stopped by pid when the tool ends (however it ends); the tool's exit code is returned.
# A caller that sets $PIPELINES_PANTSD_DIR (a CI job whose steps share one daemon: `.pids`, Pants's default)
# owns that daemon: it is used, not stopped.
# tools/deploy_prefect_flows.sh is this with the deploy tool.
set -euo pipefail

(($# >= 1)) || {
  printf 'usage: %s TOOL [ARGS...]  (TOOL: a module of tools/, e.g. deploy_prefect_flows)\n' "$0" >&2
  exit 2
}
TOOL="$1"
shift
# Physical: Pants's build root, so that a daemon dir under it names the same daemon the job's runs use.
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
[[ -f "${REPO}/tools/${TOOL}.py" ]] || {
  printf '%s: no tool tools/%s.py\n' "$0" "${TOOL}" >&2
  exit 2
}
TARGET="tools:deploy-tool-deps"
PEX="${REPO}/dist/tools/deploy-tool-deps.pex"
STOP_TIMEOUT_S=15

log() { printf '[%s] %s\n' "${TOOL}" "$*" >&2; }

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
if [[ -n "${PIPELINES_PANTSD_DIR:-}" ]]; then
  DAEMON_DIR="${PIPELINES_PANTSD_DIR}"
  [[ "${DAEMON_DIR}" == /* ]] || DAEMON_DIR="${REPO}/${DAEMON_DIR}"
else
  DAEMON_DIR="${REPO}/.pids/${TOOL}-$$"
  trap stop_daemon EXIT
fi
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
  PEX_MODULE="${TOOL}" \
  "${python}" "${PEX}/__main__.py" "$@" || status=$?
exit "${status}"
