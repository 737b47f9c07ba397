#!/usr/bin/env bash
# Prepares a CI machine (a fresh Debian/Ubuntu one: .ci/run, every GitHub workflow) with what the tests and
# the deploy need, and exports where each service listens.
#
#   sudo bash build-support/ci/setup-machine.sh [PART...]
#
# PARTs (default: all): packages docker os-image offline-os-image registry postgres mariadb gcs buildgrid.
#   packages  Debian packages of the other parts and shellcheck (`./pants lint`), installed when missing
#   docker    a Docker engine (start-dockerd.sh)
#   os-image  the OS image the root Dockerfile builds on: the default one when Docker Hub answers, else the
#             offline one from Debian's packages (os-image.sh); not exported, ./pants makes the same choice
#   offline-os-image  the offline OS image even where Docker Hub answers (tests/os_image_test.py builds on it);
#             debootstrap reads the Debian mirror from apt's sources, or DEBIAN_MIRROR on a non-Debian runner
#   registry  Debian's docker-registry (the tests start their own registries on 127.0.0.1 with it)
#   postgres  PostgreSQL on 127.0.0.1 (start-postgres.sh) -> PIPELINES_TEST_POSTGRES_URL
#   mariadb   MariaDB on 127.0.0.1 (start-mariadb.sh)     -> PIPELINES_TEST_MARIADB_URL
#   gcs       a GCS API server on 127.0.0.1 (start-gcs.sh, when the repository has it)
#   buildgrid BuildGrid, a REAPI server, in its own venv under the invoking user's cache dir (not started: the
#             remote cache's test starts its own; start-buildgrid.sh)  -> PIPELINES_TEST_BUILDGRID
#
# The variables go to $GITHUB_ENV when it is set (a workflow step), else to stdout as `export NAME=value`
# lines, the only output there (progress goes to stderr):   exports="$(bash setup-machine.sh)"; eval "${exports}"
# Any part that cannot be had fails the script: in CI every part is required (tools/repo_testing/ci.py).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
docker_dir="${here}/../docker"

log() { echo "setup-machine: $*" >&2; }
fail() {
  log "$*"
  exit 1
}

all_parts=(packages docker os-image offline-os-image registry postgres mariadb gcs buildgrid)
parts=("$@")
((${#parts[@]})) || parts=("${all_parts[@]}")
for part in "${parts[@]}"; do
  [[ " ${all_parts[*]} " == *" ${part} "* ]] || fail "unknown part '${part}'; the parts are: ${all_parts[*]}."
done
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

[[ "$(id -u)" == 0 ]] || fail "needs root (services, packages, the Docker engine): run it with sudo."

export_var() {
  local name="$1" value="$2"
  [[ -n "${value}" ]] || fail "${name} came out empty."
  log "${name}=${value}"
  if [[ -n "${GITHUB_ENV:-}" ]]; then
    printf '%s=%s\n' "${name}" "${value}" >>"${GITHUB_ENV}"
  else
    printf 'export %s=%q\n' "${name}" "${value}"
  fi
}

# Everything the scripts below run goes to stderr: stdout carries only the exports.
{
  if wants packages; then
    missing=()
    command -v git >/dev/null || missing+=(git)
    command -v shellcheck >/dev/null || missing+=(shellcheck)
    if wants docker || wants os-image || wants offline-os-image; then
      # A machine may carry a Docker client alone (no engine): the engine's package is what a build needs.
      docker info >/dev/null 2>&1 || command -v dockerd >/dev/null || missing+=(docker.io)
      command -v debootstrap >/dev/null || missing+=(debootstrap)
    fi
    if wants registry; then command -v docker-registry >/dev/null || missing+=(docker-registry); fi
    if wants postgres; then command -v pg_ctlcluster >/dev/null || missing+=(postgresql); fi
    if wants mariadb; then command -v mariadbd >/dev/null || missing+=(mariadb-server); fi
    if wants buildgrid; then python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv); fi
    if ((${#missing[@]})); then
      log "installing ${missing[*]}."
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
  fi

  if wants docker; then
    bash "${docker_dir}/start-dockerd.sh"
  fi
  if wants os-image; then
    os_image="$(bash "${docker_dir}/os-image.sh")" || fail "no OS image to build on (why above)."
    log "OS image: ${os_image}."
  fi
  if wants offline-os-image; then
    bash "${docker_dir}/build-offline-os-image.sh" >/dev/null || fail "the offline OS image was not built (why above)."
  fi
  if wants registry; then
    command -v docker-registry >/dev/null || fail "docker-registry is not installed (apt-get install docker-registry)."
  fi
} >&2

if wants postgres; then
  url="$(bash "${here}/start-postgres.sh" | tail -n 1)" || fail "PostgreSQL did not start (why above)."
  export_var PIPELINES_TEST_POSTGRES_URL "${url}"
fi
if wants mariadb; then
  # A runner image may hold another server's data (MySQL's) in the default data directory: MariaDB then gets
  # its own, initialised by start-mariadb.sh.
  if [[ -z "${MARIADB_DATADIR:-}" && -d /var/lib/mysql/mysql && ! -e /var/lib/mysql/aria_log_control ]]; then
    export MARIADB_DATADIR=/var/lib/pipelines-mariadb
  fi
  url="$(bash "${here}/start-mariadb.sh" | tail -n 1)" || fail "MariaDB did not start (why above)."
  export_var PIPELINES_TEST_MARIADB_URL "${url}"
fi
if wants gcs && [[ -f "${here}/start-gcs.sh" ]]; then
  # Its last line on stdout is `NAME=value`, the variable the lake's tests read.
  gcs_line="$(bash "${here}/start-gcs.sh" | tail -n 1)" || fail "the GCS server did not start (why above)."
  [[ "${gcs_line}" == *=* ]] || fail "start-gcs.sh printed '${gcs_line}', not NAME=value."
  export_var "${gcs_line%%=*}" "${gcs_line#*=}"
fi
if wants buildgrid; then
  # Under sudo, as the user who called it: the venv goes to that user's cache dir, where the tests can run it.
  as_caller=()
  if [[ -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then as_caller=(sudo -u "${SUDO_USER}" -H); fi
  bgd_line="$("${as_caller[@]}" bash "${here}/start-buildgrid.sh" --install-only | tail -n 1)" ||
    fail "BuildGrid was not installed (why above)."
  export_var "${bgd_line%%=*}" "${bgd_line#*=}"
fi
