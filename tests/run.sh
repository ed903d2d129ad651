#!/usr/bin/env bash
# Installs what the tests need (Debian 12), builds Manifold with AddressSanitizer and
# UBSan, and runs every test: unit (GoogleTest), integration (the real binary over real
# sockets, node:test), end-to-end (headless Chromium) and the fuzzers for a bounded time.
# Ends with one line: "N passed, N failed[, N skipped]"; exits non-zero on any failure.
#
#   MANIFOLD_SKIP_DEPS=1   do not install system packages
#   MANIFOLD_BUILD_DIR=DIR build directory (default build-asan)
#   MANIFOLD_RELEASE_BUILD_DIR=DIR regular build for the media tests' time budgets (default build-release)
#   MANIFOLD_FUZZ_SECONDS  seconds per fuzz target (default 30; 0 skips fuzzing)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BUILD=${MANIFOLD_BUILD_DIR:-build-asan}
RELEASE_BUILD=${MANIFOLD_RELEASE_BUILD_DIR:-build-release}
FUZZ_SECONDS=${MANIFOLD_FUZZ_SECONDS:-30}
RESULTS=$(mktemp -d)
trap 'rm -rf "$RESULTS"' EXIT

fatal() { echo "$1"; echo "0 passed, 1 failed"; exit 1; }

if [ "${MANIFOLD_SKIP_DEPS:-0}" != 1 ]; then
  bash tests/install-deps.sh --tests || fatal "installing dependencies failed"
fi
(cd tests && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || fatal "npm ci in tests/ failed"

# The gateway loads this rtpmanager instead of the system's (--gst-plugin-dir defaults to
# it): GStreamer 1.22 defects in rtpsession print CRITICALs under churn, and every test
# runs the gateway with G_DEBUG=fatal-criticals. Does nothing when it is up to date.
echo "== patched GStreamer rtpmanager (subprojects/gst-rtpmanager-patched)"
bash subprojects/gst-rtpmanager-patched/build.sh || fatal "building the patched rtpmanager failed"

echo "== build ($BUILD: AddressSanitizer + UBSan)"
if [ ! -d "$BUILD" ]; then
  meson setup "$BUILD" -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || fatal "meson setup failed"
fi
ninja -C "$BUILD" >"$RESULTS/build.log" 2>&1 || { tail -40 "$RESULTS/build.log"; fatal "build failed"; }

# fast_unwind_on_malloc=0: GLib and GStreamer are built without frame pointers, so the
# fast unwinder records only the first frame or two of an allocation, and suppressions
# (tests/lsan.supp) cannot match. The full unwinder costs about 1.7x in the media tests.
export ASAN_OPTIONS="detect_leaks=1:fast_unwind_on_malloc=0:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$ROOT/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
export MANIFOLD_BUILD_DIR="$BUILD"
export MANIFOLD_SANITIZED=1

# Unit tests and fuzz targets abort on a GLib/GStreamer CRITICAL, as the gateway does in
# the node tests (tests/integration/lib/server.mjs); the media unit tests use the same
# patched rtpmanager as the gateway.
echo "== unit tests"
for exe in $(find "$BUILD/tests/unit" -type f -executable -name '*_test' | sort); do
  name=$(basename "$exe")
  if G_DEBUG=fatal-criticals GST_PLUGIN_PATH_1_0="$ROOT/build-gst-plugins/lib" \
     "$exe" --gtest_output="json:$RESULTS/gtest-$name.json" >"$RESULTS/$name.log" 2>&1; then
    echo "ok   $name ($(grep -o '[0-9]* tests\? ran' "$RESULTS/$name.log" | head -1))"
  else
    echo "FAIL $name"; grep -E '^\[  FAILED|Failure|ERROR|runtime error' "$RESULTS/$name.log" | head -20
    [ -f "$RESULTS/gtest-$name.json" ] || echo "crashed" >"$RESULTS/crash-$name"
  fi
done

echo "== integration and end-to-end tests (node:test)"
node_tests=$(find tests/integration tests/e2e -name '*.test.mjs' 2>/dev/null | sort)
if [ -n "$node_tests" ]; then
  node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$RESULTS/node.tap" $node_tests \
    | grep -Ev '^\s*$' | grep -Ev '^ℹ' || true
fi

# The media tests again, against the regular build: setting up media under
# AddressSanitizer takes several times longer, so the time budgets the issue sets (a
# late joiner decodes everyone within 2 s) are checked here, not in the run above; the
# churn test runs its full 300 cycles here (40 under sanitizers); and the
# lossless-forwarding test runs only here: under AddressSanitizer the gateway falls
# seconds behind a room of 5 on 2 cores.
echo "== media tests against the regular build ($RELEASE_BUILD)"
if { [ -d "$RELEASE_BUILD" ] || meson setup "$RELEASE_BUILD" --buildtype=release >/dev/null; } &&
   ninja -C "$RELEASE_BUILD" src/app/manifold >"$RESULTS/build-release.log" 2>&1; then
  MANIFOLD_BUILD_DIR="$RELEASE_BUILD" MANIFOLD_SANITIZED=0 \
    node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$RESULTS/node-release.tap" \
    tests/integration/media.test.mjs tests/integration/media-lossless.test.mjs tests/integration/media-churn.test.mjs tests/e2e/media.test.mjs \
    | grep -Ev '^\s*$' | grep -Ev '^ℹ' || true
else
  tail -40 "$RESULTS/build-release.log"; echo "regular build failed" >"$RESULTS/crash-release-build"
fi

if [ "$FUZZ_SECONDS" != 0 ]; then
  echo "== fuzz (${FUZZ_SECONDS}s per target)"
  if command -v clang++ >/dev/null; then
    if [ ! -d build-fuzz ]; then
      CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_lundef=false >/dev/null 2>&1
    fi
    if ninja -C build-fuzz tests/fuzz/all-fuzzers >"$RESULTS/fuzz-build.log" 2>&1; then
      for target in $(find build-fuzz/tests/fuzz -maxdepth 1 -type f -executable -name 'fuzz_*' | sort); do
        name=$(basename "$target")
        corpus="tests/fuzz/corpus/${name#fuzz_}"
        work=$(mktemp -d)
        [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
        if G_DEBUG=fatal-criticals "$target" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$work" >"$RESULTS/$name.log" 2>&1; then
          echo "ok   $name ($(grep -o 'stat::number_of_executed_units: *[0-9]*' "$RESULTS/$name.log" | grep -o '[0-9]*$') runs)"
          echo pass >"$RESULTS/outcome-fuzz-$name"
        else
          echo "FAIL $name"; grep -E 'ERROR|SUMMARY|Test unit written' "$RESULTS/$name.log" | head -10
          echo fail >"$RESULTS/outcome-fuzz-$name"
        fi
        rm -rf "$work"
      done
    else
      tail -20 "$RESULTS/fuzz-build.log"; echo fail >"$RESULTS/outcome-fuzz-build"
    fi
  else
    echo "skip fuzzers: clang++ is not installed (bash tests/install-deps.sh --tests)"
    echo skip >"$RESULTS/outcome-fuzz-skipped"
  fi
fi

python3 tests/summarize.py "$RESULTS"
