#!/usr/bin/env bash
# Which OS image the root Dockerfile builds on, on this machine; the reference is the only line on stdout.
#
#   OS_IMAGE="$(bash build-support/docker/os-image.sh)"
#
# 1. $OS_IMAGE when set (the caller chose).
# 2. The Dockerfile's default (`ARG OS_IMAGE=...`, python:3.13-slim-trixie) when the engine has it or can
#    pull it: production and any machine with registry access build exactly as before.
# 3. Otherwise the offline OS image made from Debian's packages (build-offline-os-image.sh), reused when the
#    engine already has it, built once (about a minute) when it does not.
# When none of these can be had, exits 1 with one message naming the fix.
#
# ./pants calls this before goals that may build images (package, publish, run, test), so `./pants package`
# and the deploy tool make the same choice. OS_IMAGE_DEFAULT overrides the default (tests point it at an
# image that cannot be pulled); OFFLINE_OS_IMAGE the offline tag.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dockerfile="${here}/../../Dockerfile"
offline_tag="${OFFLINE_OS_IMAGE:-rio-pipelines/os:trixie-python3.13}"

log() { echo "os-image: $*" >&2; }

if [[ -n "${OS_IMAGE:-}" ]]; then
  echo "${OS_IMAGE}"
  exit 0
fi

default_image="${OS_IMAGE_DEFAULT:-$(sed -nE 's/^ARG OS_IMAGE=([^[:space:]]+).*/\1/p' "${dockerfile}" | head -n 1)}"
if [[ -z "${default_image}" ]]; then
  log "the root Dockerfile has no 'ARG OS_IMAGE=<image>' line; restore it (git checkout Dockerfile)."
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  log "no Docker engine answers: start one (bash build-support/docker/start-dockerd.sh) and run again."
  exit 1
fi

if docker image inspect "${default_image}" >/dev/null 2>&1; then
  echo "${default_image}"
  exit 0
fi
pull_error="$(timeout "${OS_IMAGE_PULL_TIMEOUT:-120}" docker pull --quiet "${default_image}" 2>&1 >/dev/null)" && {
  echo "${default_image}"
  exit 0
}

if docker image inspect "${offline_tag}" >/dev/null 2>&1; then
  echo "${offline_tag}"
  exit 0
fi
why="cannot pull ${default_image} ($(tail -n 1 <<<"${pull_error:-timed out}"))"
if ! command -v debootstrap >/dev/null 2>&1 || [[ "$(id -u)" != 0 ]]; then
  log "${why}, and the offline OS image ${offline_tag} is not on this engine and cannot be built here: that" \
    "needs root and debootstrap. Fix: run 'bash build-support/docker/build-offline-os-image.sh' once as root" \
    "(apt-get install debootstrap first), or export OS_IMAGE=<a reachable Python 3.13 trixie image>." \
    "Nothing was built."
  exit 1
fi
log "${why}; building the offline OS image ${offline_tag} from Debian's packages once (about a minute)."
OS_IMAGE="" bash "${here}/build-offline-os-image.sh" "${offline_tag}"
