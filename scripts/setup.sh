#!/usr/bin/env bash
# Installs what pgperf and its tests need on a fresh Debian 12 machine, only what is missing:
# PostgreSQL 15 server binaries, HypoPG, pgTAP, libfaketime (for --clock), the libclang that
# pg_query's build needs, and Chromium for the report's browser test. Idempotent; needs root (or sudo) for apt-get.
set -euo pipefail

packages=(postgresql-15 postgresql-15-hypopg postgresql-15-pgtap libfaketime libclang1-14 libclang-common-14-dev chromium)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The Debian package starts a cluster of its own on port 5432; pgperf never uses it.
if command -v pg_lsclusters >/dev/null && pg_lsclusters -h 2>/dev/null | grep -q online; then
  pg_lsclusters -h | awk '$4 == "online" {print $1, $2}' | while read -r version name; do
    pg_ctlcluster "$version" "$name" stop || true
  done
fi
# Citus (distributed PostgreSQL, for --citus-workers and its tests) is not in Debian's archive:
# the shared folder beside the repository carries it and installs it, as root.
citus_install="$(dirname "$0")/../../shared/citus/install.sh"
if [ ! -f "$citus_install" ]; then
  echo "setup: $citus_install is missing: Citus is installed from the shared/ folder that sits beside the repository; clone or copy it there and run setup again" >&2
  exit 2
fi
citus_sudo=()
[ "$(id -u)" -eq 0 ] || citus_sudo=(sudo)
"${citus_sudo[@]}" bash "$citus_install"
