#!/usr/bin/env bash
# Installs the Debian packages plumb needs to build and test, and only those that are missing.
# Checks with dpkg first so a machine that has everything never calls apt. Run by `make deps`,
# which every build and test target depends on.
set -euo pipefail

pkgs=(
  make gcc pkg-config
  libcurl4-openssl-dev libyaml-dev libssl-dev libuv1-dev libsqlite3-dev sqlite3
  check libsubunit-dev libjansson-dev libxml2-dev libxml2-utils libmicrohttpd-dev libpcre2-dev
  python3 python3-botocore python3-boto3 python3-pytest awscli
  clang libclang-rt-14-dev git strace
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js may come from Debian or from another packager that bundles npm: accept either.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
