#!/usr/bin/env bash
# Bounds the Pants local store (lmdb_store) that .github/actions/pants-setup restores, before Pants runs.
#
#   bash build-support/ci/bound-pants-local-store.sh <store dir> <max bytes>
#
# The store is saved again after every job under a key ending in the commit, so without a bound it would only
# grow. A restored store above <max bytes> (apparent size, `du -sb`) is removed: the job then starts with an
# empty store and the cache saved after it holds only what this job wrote, so a saved store stays below
# <max bytes> plus one job's growth. Removing it after the job instead would save nothing (the path is gone),
# and every later job would restore the same oversized store again.
set -euo pipefail

[[ $# -eq 2 ]] || { echo "usage: $0 <store dir> <max bytes>" >&2; exit 2; }
store="$1"
max_bytes="$2"
if [[ ! "${max_bytes}" =~ ^[0-9]+$ ]]; then
  echo "$0: <max bytes> must be a whole number of bytes, not '${max_bytes}'" >&2
  exit 2
fi

if [[ ! -d "${store}" ]]; then
  echo "Pants local store: none restored (${store}); this job starts it empty."
  exit 0
fi
size="$(du -sb "${store}" | cut -f1)"
if ((size > max_bytes)); then
  rm -rf "${store}"
  echo "Pants local store: ${size} bytes restored, above the cap of ${max_bytes}: removed (this job starts it empty)."
else
  echo "Pants local store: ${size} bytes restored (cap ${max_bytes})."
fi
