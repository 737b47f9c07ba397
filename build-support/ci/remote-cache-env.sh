#!/usr/bin/env bash
# Switches Pants's remote cache (REAPI, docs/ci.md) on for the rest of a CI job: run by the pants-setup action
# when the workflow gives it an address. Reads:
#   REMOTE_CACHE_ADDRESS   grpc://host:port or grpcs://host:port (the variable PANTS_REMOTE_CACHE_ADDRESS)
#   REMOTE_CACHE_INSTANCE  the server's instance name, may be empty (PANTS_REMOTE_CACHE_INSTANCE)
#   REMOTE_CACHE_TOKEN     a bearer token, may be empty (the secret PANTS_REMOTE_CACHE_TOKEN)
#   REMOTE_CACHE_BASIC_AUTH  user:password for HTTP basic auth, may be empty (PANTS_REMOTE_CACHE_BASIC_AUTH;
#                          bazel-remote's --htpasswd_file), not together with a token
#   REMOTE_CACHE_WRITE     true to upload results too, false to only read them
# and writes Pants's variables to $GITHUB_ENV (to stdout as `export` lines without it). The token goes to a
# file only the job's user reads, named by PANTS_REMOTE_OAUTH_BEARER_TOKEN_PATH; basic credentials go into
# PANTS_REMOTE_STORE_HEADERS, masked in the job's log.
set -euo pipefail

address="${REMOTE_CACHE_ADDRESS:?the remote cache address is empty}"
instance="${REMOTE_CACHE_INSTANCE:-}"
write="${REMOTE_CACHE_WRITE:-false}"

fail() {
  echo "remote-cache-env: $*" >&2
  exit 2
}
[[ "${address}" =~ ^grpcs?://[^/[:space:]]+:[0-9]+$ ]] ||
  fail "PANTS_REMOTE_CACHE_ADDRESS is '${address}'; set it to grpc://host:port or grpcs://host:port (with TLS)."
[[ -z "${REMOTE_CACHE_TOKEN:-}" || -z "${REMOTE_CACHE_BASIC_AUTH:-}" ]] ||
  fail "both PANTS_REMOTE_CACHE_TOKEN and PANTS_REMOTE_CACHE_BASIC_AUTH are set; keep the one the server checks."
[[ -z "${REMOTE_CACHE_BASIC_AUTH:-}" || "${REMOTE_CACHE_BASIC_AUTH}" == ?*:?* ]] ||
  fail "PANTS_REMOTE_CACHE_BASIC_AUTH must read user:password."
[[ "${write}" == true || "${write}" == false ]] ||
  fail "remote-cache-write is '${write}'; it must be true or false."

variables=(
  "PANTS_REMOTE_CACHE_READ=true"
  "PANTS_REMOTE_CACHE_WRITE=${write}"
  "PANTS_REMOTE_STORE_ADDRESS=${address}"
  "PANTS_REMOTE_INSTANCE_NAME=${instance}"
)
if [[ -n "${REMOTE_CACHE_TOKEN:-}" ]]; then
  token_file="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/pants-remote-cache-token"
  (umask 077 && printf '%s' "${REMOTE_CACHE_TOKEN}" >"${token_file}")
  variables+=("PANTS_REMOTE_OAUTH_BEARER_TOKEN_PATH=${token_file}")
fi
if [[ -n "${REMOTE_CACHE_BASIC_AUTH:-}" ]]; then
  credentials="$(printf '%s' "${REMOTE_CACHE_BASIC_AUTH}" | base64 -w 0)"
  [[ -z "${GITHUB_ENV:-}" ]] || echo "::add-mask::${credentials}"
  # `+` adds the header to Pants's defaults (user-agent) instead of replacing them.
  variables+=("PANTS_REMOTE_STORE_HEADERS=+{'authorization': 'Basic ${credentials}'}")
fi

for variable in "${variables[@]}"; do
  if [[ -n "${GITHUB_ENV:-}" ]]; then
    printf '%s\n' "${variable}" >>"${GITHUB_ENV}"
  else
    printf 'export %s=%q\n' "${variable%%=*}" "${variable#*=}"
  fi
done
echo "Remote cache on: ${address} (instance '${instance}', write ${write})." >&2
