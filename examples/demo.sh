#!/usr/bin/env bash
# Quick start: installs the dependencies (Debian 12), builds Manifold and starts the
# gateway with its demo page on the built-in default configuration.
# Extra arguments go to `manifold` (e.g. --port 9000, --config examples/manifold.conf).
set -euo pipefail
cd "$(dirname "$0")/.."
bash tests/install-deps.sh
# GStreamer 1.22's rtpmanager with the fixes Manifold needs (subprojects/gst-rtpmanager-patched);
# the gateway finds it by itself, and falls back to the system's (with a warning) without it.
bash subprojects/gst-rtpmanager-patched/build.sh ||
  echo "warning: the patched rtpmanager could not be built; the gateway uses the system's"
[ -d build ] || meson setup build
ninja -C build src/app/manifold
echo "Open the printed address in a browser; Ctrl-C stops the gateway."
exec ./build/src/app/manifold "$@"
