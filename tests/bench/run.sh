#!/usr/bin/env bash
# Reruns the whole benchmark (Manifold vs Janus VideoRoom, every scenario, 3 repetitions)
# and writes tests/bench/results/ (tables.md, results.json, summary.json, *.png).
# Installs what it needs (Debian packages, the tests' npm packages), builds a release
# gateway in build-bench/, then runs tests/bench/run.mjs with any arguments given here:
#   bash tests/bench/run.sh                          # everything, ~25-30 min on 2 cores
#   bash tests/bench/run.sh --scenarios room --reps 1
# Needs root (network namespaces, tcpdump), or sudo.
set -euo pipefail
cd "$(dirname "$0")/../.."
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

bash tests/install-deps.sh               # build and runtime dependencies of the gateway
# Janus (the server compared against), tcpdump (the capture), gnuplot (the plots),
# iproute2/iptables/util-linux (namespaces, veth, taskset), linux-perf (--profile).
missing=()
for p in janus tcpdump gnuplot-nox util-linux iproute2 iptables linux-perf; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then missing+=(nodejs npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# The package may start a system-wide Janus (systemd); the benchmark starts its own, in
# its own namespace, and needs no other.
if command -v systemctl >/dev/null && systemctl is-active --quiet janus 2>/dev/null; then
  $SUDO systemctl disable --now janus || true
fi
if [ ! -d tests/node_modules/@roamhq/wrtc ] || [ ! -d tests/node_modules/ws ] || [ ! -d tests/node_modules/node-datachannel ]; then
  (cd tests && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

if [ ! -f build-bench/build.ninja ]; then meson setup build-bench --buildtype=release >/dev/null; fi
ninja -C build-bench src/app/manifold >/dev/null

if [ -n "$SUDO" ]; then
  sudo -E MANIFOLD_BUILD_DIR=build-bench node tests/bench/run.mjs "$@"
else
  MANIFOLD_BUILD_DIR=build-bench node tests/bench/run.mjs "$@"
fi
