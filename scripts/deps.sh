#!/usr/bin/env bash
# Installs the Debian 12 packages gridsync needs, skipping those already present.
# libreoffice-calc-nogui is for the tests only: they convert the XLSX reports
# back to CSV with soffice --headless (the test is skipped without it).
# chromium, chromium-driver, python3-selenium and fonts-noto-cjk are for the
# browser tests of the web pages; curl for the web scenario tests, and openssl
# for the self-signed certificates of their TLS checks (made in temporary dirs).
# Runs as root (or with sudo available). Safe to run again.
set -euo pipefail
pkgs=(build-essential cmake pkg-config libzmq3-dev libmsgpack-dev libsqlite3-dev sqlite3
      libsodium-dev check libcsv-dev clang libclang-rt-14-dev procps iproute2 valgrind
      libjansson-dev libzip-dev libexpat1-dev libxlsxwriter-dev libreoffice-calc-nogui
      libmicrohttpd-dev curl openssl chromium chromium-driver python3-selenium fonts-noto-cjk)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "deps: all packages present"
fi
