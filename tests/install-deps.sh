#!/usr/bin/env bash
# Installs everything Manifold needs to build, run and test on Debian 12.
#   bash tests/install-deps.sh          build + runtime dependencies
#   bash tests/install-deps.sh --tests  also the test tools (Chromium, clang for fuzzing, ...)
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # build
  meson ninja-build pkg-config g++ libglib2.0-dev libglib2.0-dev-bin
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libsoup-3.0-dev libjson-glib-dev libboost-program-options-dev libjwt-dev
  # the patched rtpmanager (subprojects/gst-rtpmanager-patched): apt-get source unpacks with dpkg-source
  dpkg-dev
  # runtime: GStreamer plugins for the media plane, TLS for libsoup
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-nice
  glib-networking
)
if [ "${1:-}" = "--tests" ]; then
  packages+=(
    libgtest-dev                     # unit tests
    clang libclang-rt-14-dev         # libFuzzer targets
    nodejs npm                       # integration and end-to-end test runner
    chromium                         # real browser for end-to-end tests
    openssl curl iproute2 iptables   # TLS test certificates, network namespaces
    tcpdump                          # the loss test checks the RTX SSRCs on the wire
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm may come from another source than Debian (e.g. a newer nodejs package
# that bundles npm); accept any working node >= 18 with npm.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]}" | grep -v '^$' || true))
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
