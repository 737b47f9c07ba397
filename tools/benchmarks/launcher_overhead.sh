#!/usr/bin/env bash
# Measures, side by side in one run, the time ./pants spends before handing over to Pants (a stand-in
# Pants that exits at once), the time of a whole warm `./pants --version` (real Pants, daemon up, through
# Pants's native client, as ./pants runs it) and the same through Pants's Python client.
#   bash tools/benchmarks/launcher_overhead.sh [runs]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
runs="${1:-10}"
real_cache="${PANTS_LAUNCHER_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/rio-pipelines-pants}"
version="$(awk -F'"' '/^pants_version/ {print $2}' pants.toml)"
./pants --version >/dev/null # bootstrap and warm the daemon

stub_cache="$(mktemp -d)"
trap 'rm -rf "${stub_cache}"' EXIT
mkdir -p "${stub_cache}/pants-${version}/bin"
touch "${stub_cache}/pants-${version}/.ready"
cp -p "${real_cache}"/pex-*.pex "${real_cache}"/pex-*.pex.verified "${stub_cache}/"
printf '#!/bin/sh\nexit 0\n' >"${stub_cache}/pants-${version}/bin/pants"
chmod +x "${stub_cache}/pants-${version}/bin/pants"

ms_now() { date +%s%N | cut -c1-13; }
launcher_total=0 pants_total=0 python_client_total=0
for _ in $(seq "${runs}"); do
  start="$(ms_now)"; PANTS_LAUNCHER_CACHE="${stub_cache}" ./pants --version; middle="$(ms_now)"
  ./pants --version >/dev/null; end="$(ms_now)"
  PANTS_NO_NATIVE_CLIENT=1 ./pants --version >/dev/null; python_end="$(ms_now)"
  launcher_total=$((launcher_total + middle - start)); pants_total=$((pants_total + end - middle))
  python_client_total=$((python_client_total + python_end - end))
done
printf 'runs=%s  launcher before Pants: %s ms/run  warm ./pants --version: %s ms/run  same, Python client: %s ms/run\n' \
  "${runs}" "$((launcher_total / runs))" "$((pants_total / runs))" "$((python_client_total / runs))"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
printf 'ratio launcher/whole = %s; native client/Python client = %s\n' \
  "$(ratio "${launcher_total}" "${pants_total}")" "$(ratio "${pants_total}" "${python_client_total}")"
