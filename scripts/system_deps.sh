#!/usr/bin/env bash
# Checks the Debian packages the app and its tests need; installs them when allowed.
# Usage: scripts/system_deps.sh [check|install] [runtime|test]
set -euo pipefail
mode=${1:-check}
scope=${2:-runtime}

runtime=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-dejavu-core
         fonts-noto-color-emoji shared-mime-info)
# qpdf: checks the archived documents; Java: the Nu Html Checker; nginx and openssl: the
# production layout test (tests/deploy).
test=(chromium poppler-utils qpdf zbar-tools default-jre-headless nginx openssl)
wanted=("${runtime[@]}")
[ "$scope" = test ] && wanted+=("${test[@]}")

missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
# Node.js may come from Debian or from NodeSource (whose nodejs bundles npm): check the command.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$mode" = install ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  exit 0
fi
echo "Missing Debian packages; install them with: sudo apt-get install -y ${missing[*]}" >&2
exit 1
