#!/usr/bin/env bash
# Build a local OS image equivalent to `python:3.13-slim-trixie` from Debian
# packages only, for machines that cannot pull from Docker Hub.
#
#   build-support/docker/build-offline-os-image.sh [TAG]
#
# TAG defaults to $OS_IMAGE, then to rio-pipelines/os:trixie-python3.13.
# Pass the same tag to the root Dockerfile as `--build-arg OS_IMAGE=<TAG>`. The tag is the only line
# printed on stdout (progress goes to stderr):  export OS_IMAGE="$(build-offline-os-image.sh)"
#
# The Debian mirror is read at run time from this machine's apt sources
# (/etc/apt/sources.list.d/*.sources `URIs:` or /etc/apt/sources.list `deb`
# lines): the one serving trixie, else the one serving the machine's own Debian release (a Debian mirror
# serves every suite); DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR override it.
#
# Other environment variables:
#   OS_IMAGE_REBUILD=1   rebuild even if the tag already exists
#   OS_IMAGE_UPGRADE=0   skip applying trixie-updates/-security at build time
#
# Needs root (debootstrap, chroot), `debootstrap` and a running Docker engine
# (see start-dockerd.sh).
set -euo pipefail

readonly SUITE=trixie
readonly DEFAULT_TAG=rio-pipelines/os:trixie-python3.13
# What python:3.13-slim-trixie has on top of Debian minbase: Python 3.13 (with
# venv, and `python` as an alias of python3), CA certificates, tzdata, netbase.
readonly PACKAGES=python3,python3-venv,python-is-python3,ca-certificates,tzdata,netbase

tag="${1:-${OS_IMAGE:-$DEFAULT_TAG}}"

log() { echo "build-offline-os-image: $*" >&2; }
die() { echo "build-offline-os-image: ERROR: $*" >&2; exit 1; }

# --- Reuse -------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  die "no Docker engine answers. Start one first (build-support/docker/start-dockerd.sh)."
fi
if [[ "${OS_IMAGE_REBUILD:-0}" != 1 ]] && docker image inspect "$tag" >/dev/null 2>&1; then
  log "image '$tag' already exists; reusing it (set OS_IMAGE_REBUILD=1 to rebuild)."
  echo "$tag"
  exit 0
fi

# --- Preconditions -----------------------------------------------------------
if ! command -v debootstrap >/dev/null 2>&1; then
  die "'debootstrap' is not installed. This script builds the Debian ${SUITE} root\
 filesystem of the offline OS image with debootstrap, from the Debian mirror configured\
 in this machine's apt sources. Install it (as root: apt-get install debootstrap) and\
 run the script again, or, on a machine that can reach Docker Hub, skip this script and\
 build the root Dockerfile with its default OS_IMAGE (python:3.13-slim-trixie)."
fi
if [[ "$(id -u)" != 0 ]]; then
  die "debootstrap needs root (it creates device nodes and runs chroot); run this script as root."
fi

# --- Mirror discovery --------------------------------------------------------
# Print the first URI of an enabled `deb` source that serves suite $1.
# Looks at deb822 files (*.sources) first, then one-line sources.list files.
find_mirror() {
  local suite="$1" f
  shopt -s nullglob
  for f in /etc/apt/sources.list.d/*.sources; do
    awk -v suite="$suite" '
      function flush() {
        if (uri != "" && types ~ /(^|[ \t])deb([ \t]|$)/ && enabled !~ /^[ \t]*no/ &&
            (" " suites " ") ~ ("[ \t]" suite "[ \t]")) { print uri; found = 1; exit }
        uri = ""; types = ""; suites = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "uris:"    { uri = $2; next }
      tolower($1) == "types:"   { sub(/^[^:]*:/, ""); types = $0; next }
      tolower($1) == "suites:"  { sub(/^[^:]*:/, ""); suites = $0; next }
      tolower($1) == "enabled:" { sub(/^[^:]*:/, ""); enabled = tolower($0); next }
      END { if (!found) flush() }
    ' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    # deb [options] URI suite components...
    sed -E -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" |
      awk -v suite="$suite" '$1 == "deb" && $3 == suite { print $2 }'
  done
  shopt -u nullglob
}

# The machine's own release (e.g. bookworm): its mirrors serve ${SUITE} too.
host_suite="$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null || true)"
also=""
[[ -z "$host_suite" ]] || also=" or '${host_suite}'"
# Print the first mirror serving one of the suites given, in order (nothing when none does).
first_mirror() {
  local suite found
  for suite in "$@"; do
    [[ -n "$suite" && "$suite" != "-security" ]] || continue
    found="$(find_mirror "$suite" | sed -n 1p)"
    [[ -n "$found" ]] && { echo "$found"; return 0; }
  done
  return 0
}
mirror="${DEBIAN_MIRROR:-$(first_mirror "$SUITE" "$host_suite")}"
security_mirror="${DEBIAN_SECURITY_MIRROR:-$(first_mirror "${SUITE}-security" "${host_suite}-security")}"
if [[ -z "$mirror" ]]; then
  die "found no apt source serving Debian '${SUITE}'${also} in /etc/apt/sources.list or\
 /etc/apt/sources.list.d/. Set DEBIAN_MIRROR to a Debian mirror URL and run again."
fi
log "Debian mirror: $mirror"
[[ -n "$security_mirror" ]] && log "Debian security mirror: $security_mirror"

# --- Work directory and cleanup ----------------------------------------------
workdir="$(mktemp -d "${TMPDIR:-/tmp}/offline-os-image.XXXXXX")"
rootfs="$workdir/rootfs"

cleanup() {
  local rc=$? m
  # debootstrap (and a failed chroot step) can leave /proc, /sys or /dev bind
  # mounts inside the root filesystem: unmount them (deepest first) before
  # deleting, and never let rm cross into another file system.
  while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done < <(awk -v root="$rootfs" 'index($2, root) == 1 { print $2 }' /proc/mounts | sort -r)
  rm -rf --one-file-system "$workdir" || log "warning: could not fully remove $workdir"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Root filesystem ---------------------------------------------------------
log "running debootstrap (minbase, ${SUITE}) into $rootfs; this takes about a minute."
if ! debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$rootfs" "$mirror" \
     >"$workdir/debootstrap.log" 2>&1; then
  tail -n 25 "$workdir/debootstrap.log" >&2 || true
  die "debootstrap failed (last lines above). It downloads Debian ${SUITE} packages from\
 '$mirror' (taken from this machine's apt sources, or DEBIAN_MIRROR): check that\
 'apt-get update' works on this machine, that the mirror serves ${SUITE}, that there is\
 free disk space under ${TMPDIR:-/tmp}, and that the script runs as root. Nothing was imported."
fi

# Apt sources of the image: the same mirrors, as a deb822 file, like the
# official Debian images (trixie, trixie-updates, trixie-security).
rm -f "$rootfs/etc/apt/sources.list"
{
  printf 'Types: deb\nURIs: %s\nSuites: %s %s-updates\nComponents: main\n' "$mirror" "$SUITE" "$SUITE"
  printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  if [[ -n "$security_mirror" ]]; then
    printf '\nTypes: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' "$security_mirror" "$SUITE"
    printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
  fi
} >"$rootfs/etc/apt/sources.list.d/debian.sources"

# Slim like the official images: no docs/man pages/translations from now on.
cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'CFG'
# Keep images small (as in Debian's official -slim images).
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CFG'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CFG
cat >"$rootfs/etc/apt/apt.conf.d/docker-no-recommends" <<'CFG'
APT::Install-Recommends "false";
CFG

if [[ "${OS_IMAGE_UPGRADE:-1}" == 1 ]]; then
  log "applying ${SUITE}-updates/-security (set OS_IMAGE_UPGRADE=0 to skip)."
  in_root() {
    chroot "$rootfs" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
      DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"
  }
  if ! { in_root apt-get update -qq && in_root apt-get -y -qq -o Dpkg::Use-Pty=0 upgrade; } \
       >"$workdir/upgrade.log" 2>&1; then
    tail -n 25 "$workdir/upgrade.log" >&2 || true
    die "apt-get upgrade inside the new root filesystem failed (last lines above)."
  fi
fi

# Remove what the slim images do not ship, and host-specific files that
# debootstrap copies in (Docker provides resolv.conf/hostname at run time).
find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda,locale}/* \
       "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/* "$rootfs"/var/cache/debconf/*-old \
       "$rootfs"/var/log/*.log "$rootfs"/var/log/apt/* "$rootfs/debootstrap"
: >"$rootfs/etc/resolv.conf"
: >"$rootfs/etc/hostname"
rm -f "$rootfs/etc/machine-id"

# --- Import ------------------------------------------------------------------
log "importing the root filesystem as '$tag'."
tar --numeric-owner --xattrs -C "$rootfs" -c . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["python3"]' \
    --message "debootstrap --variant=minbase ${SUITE} + ${PACKAGES}" \
    - "$tag" >/dev/null

python_version="$(docker run --rm "$tag" python3 -c \
  'import platform, ssl, venv, zoneinfo; print(platform.python_version())')" \
  || die "the imported image '$tag' cannot run python3."
log "built '$tag' (Python ${python_version}, $(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))."
echo "$tag"
