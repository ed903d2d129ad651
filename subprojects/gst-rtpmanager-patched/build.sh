#!/usr/bin/env bash
# Builds GStreamer's rtpmanager plugin (libgstrtpmanager.so: rtpbin, rtpsession,
# rtpjitterbuffer, ...) from Debian's own gst-plugins-good1.0 source package with the
# patches in patches/ (README.md says why each one), for the gateway to load instead of
# the system's copy (`manifold --gst-plugin-dir`, whose default is this script's output).
#
#   bash subprojects/gst-rtpmanager-patched/build.sh [OUT]
#
# OUT (default: build-gst-plugins in the repository root) receives
#   OUT/lib/libgstrtpmanager.so   the patched plugin
#   OUT/src, OUT/_build           Debian's source with the patches applied, meson's build
#   OUT/apt                       a private apt configuration and index (see below)
# A second run with the same patches and the same installed GStreamer does nothing.
#
# Where the source comes from: apt-get source, with deb-src entries derived from the
# machine's own apt sources (each enabled `deb` entry of this Debian release's suites, as
# `deb-src`), kept in OUT/apt with their own index: the machine's apt configuration and
# its package lists are not changed. The source version is the installed
# gstreamer1.0-plugins-good's; when the archive no longer serves it (a security update
# whose source the mirror does not carry), the newest source of the same upstream
# version is taken and said so. Needs dpkg-dev (dpkg-source), meson, ninja, a C
# compiler and the GStreamer development packages (tests/install-deps.sh installs them).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/build-gst-plugins}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
PACKAGE=gst-plugins-good1.0
BINARY=gstreamer1.0-plugins-good

die() { echo "gst-rtpmanager-patched: $*" >&2; exit 1; }
say() { echo "gst-rtpmanager-patched: $*"; }
started=$(date +%s)

for tool in dpkg-source meson ninja cc pkg-config patch python3; do
  command -v "$tool" >/dev/null || die "$tool is missing (bash tests/install-deps.sh installs what this needs)"
done
installed=$(dpkg-query -W -f='${Version}' "$BINARY" 2>/dev/null) ||
  die "$BINARY is not installed: the patched plugin replaces that package's rtpmanager"
upstream=${installed%%-*}
upstream=${upstream#*:}

# Up to date? The stamp names the installed package and the hash of the patches and of
# this script.
fingerprint="$installed $(cat "$HERE"/patches/*.patch "$HERE/build.sh" | sha256sum | cut -d' ' -f1)"
if [ -f "$OUT/lib/libgstrtpmanager.so" ] && [ "$(cat "$OUT/stamp" 2>/dev/null)" = "$fingerprint" ]; then
  say "up to date: $OUT/lib/libgstrtpmanager.so"
  exit 0
fi

# 1. A private apt configuration with deb-src entries, and its index.
APT_DIR=$OUT/apt
rm -rf "$APT_DIR"
mkdir -p "$APT_DIR/parts" "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
: >"$APT_DIR/sources.list"
python3 - "$APT_DIR/parts/deb-src.sources" <<'PY'
# Writes a deb-src stanza for every enabled `deb` entry of this release's suites
# (CODENAME, CODENAME-updates, CODENAME-security) found in the machine's apt sources,
# both the one-line format (*.list) and deb822 (*.sources).
import glob, re, sys
release = {}
for line in open('/etc/os-release'):
    if '=' in line:
        k, v = line.rstrip('\n').split('=', 1)
        release[k] = v.strip('"')
codename = release.get('VERSION_CODENAME', '')
if not codename:
    sys.exit('no VERSION_CODENAME in /etc/os-release')
suite_ok = re.compile(r'^%s(-updates|-security)?$' % re.escape(codename)).match
stanzas = []
one_line = ['/etc/apt/sources.list'] + sorted(glob.glob('/etc/apt/sources.list.d/*.list'))
for path in one_line:
    try:
        lines = open(path).read().splitlines()
    except OSError:
        continue
    for line in lines:
        line = line.split('#', 1)[0].strip()
        m = re.match(r'^deb\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)\s+(.+)$', line)
        if not m or not suite_ok(m.group(3)):
            continue
        fields = {'Types': 'deb-src', 'URIs': m.group(2), 'Suites': m.group(3), 'Components': m.group(4)}
        for opt in (m.group(1) or '').strip('[] \t').split():
            key, _, value = opt.partition('=')
            if key == 'signed-by':
                fields['Signed-By'] = value
        stanzas.append(fields)
for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
    try:
        text = open(path).read()
    except OSError:
        continue
    for block in re.split(r'\n[ \t]*\n', text):
        fields, key = {}, None
        for line in block.splitlines():
            if line.startswith('#') or not line.strip():
                continue
            if line[0] in ' \t' and key:       # continuation line (e.g. an inline key)
                fields[key] += '\n' + line
                continue
            key, _, value = line.partition(':')
            key = key.strip()
            fields[key] = value.strip()
        if 'deb' not in fields.get('Types', '').split():
            continue
        if fields.get('Enabled', 'yes').lower() in ('no', 'false', '0'):
            continue
        suites = [s for s in fields.get('Suites', '').split() if suite_ok(s)]
        if not suites:
            continue
        fields['Types'] = 'deb-src'
        fields['Suites'] = ' '.join(suites)
        stanzas.append(fields)
if not stanzas:
    sys.exit('no enabled deb entry for %s in the apt sources' % codename)
with open(sys.argv[1], 'w') as out:
    for fields in stanzas:
        out.write(''.join('%s: %s\n' % kv for kv in fields.items()) + '\n')
PY
[ -s "$APT_DIR/parts/deb-src.sources" ] || die "no deb-src entry could be derived from the apt sources"
apt_opts=(-o "Dir::Etc::SourceList=$APT_DIR/sources.list" -o "Dir::Etc::SourceParts=$APT_DIR/parts"
          -o "Dir::State::Lists=$APT_DIR/lists" -o "Dir::Cache=$APT_DIR/cache"
          -o "APT::Sandbox::User=root" -o "Acquire::Languages=none")
say "updating a private deb-src index (the machine's apt sources, as deb-src)"
apt-get -qq "${apt_opts[@]}" update || die "apt-get update of the deb-src index failed"

# 2. The source: the installed version, else the newest of the same upstream version.
available=$(apt-cache "${apt_opts[@]}" showsrc "$PACKAGE" 2>/dev/null | sed -n 's/^Version: //p' | sort -u)
[ -n "$available" ] || die "the apt sources offer no source package $PACKAGE"
SRC=$OUT/src
rm -rf "$SRC"
mkdir -p "$SRC"
fetched=""
try_versions=("$installed")
while read -r v; do
  [ "$v" != "$installed" ] && [ "${v%%-*}" = "$upstream" ] && try_versions+=("$v")
done < <(printf '%s\n' "$available" | sort -Vr)
for version in "${try_versions[@]}"; do
  printf '%s\n' "$available" | grep -qxF "$version" || continue
  if (cd "$SRC" && apt-get -qq "${apt_opts[@]}" source "$PACKAGE=$version" >"$SRC/apt-source.log" 2>&1); then
    fetched=$version
    break
  fi
  say "source $PACKAGE $version is listed but cannot be downloaded ($(grep -m1 -oE '[0-9]{3} +[A-Z][A-Za-z ]*[a-z]' "$SRC/apt-source.log" | tr -s ' ' || echo 'apt-get source failed'))"
  rm -rf "${SRC:?}"/*
done
[ -n "$fetched" ] || die "no source of $PACKAGE $upstream could be downloaded (installed: $installed; listed: $(echo $available))"
if [ "$fetched" != "$installed" ]; then
  say "NOTE: built from $PACKAGE $fetched, the installed $BINARY is $installed (same upstream $upstream)"
fi
tree=$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name "$PACKAGE-*" | head -1)
[ -n "$tree" ] && [ -f "$tree/gst/rtpmanager/rtpsession.c" ] || die "apt-get source unpacked no $PACKAGE tree (dpkg-dev installed?)"

# 3. The patches (upstream's layout: subprojects/gst-plugins-good/...; -p3 strips it).
for p in "$HERE"/patches/*.patch; do
  if patch -d "$tree" -p3 -R --dry-run -s -f <"$p" >/dev/null 2>&1; then
    say "$(basename "$p"): already in Debian's source"
  elif patch -d "$tree" -p3 -s -f <"$p"; then
    say "$(basename "$p"): applied"
  else
    die "$(basename "$p") does not apply to $PACKAGE $fetched"
  fi
done

# 4. Configure everything off but rtpmanager, build only that plugin, with the compiler
# flags Debian builds its packages with (hardening included).
rm -rf "$OUT/_build"
CFLAGS="$(dpkg-buildflags --get CFLAGS)" CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
meson setup "$OUT/_build" "$tree" --buildtype=plain \
  -Dauto_features=disabled -Drtpmanager=enabled \
  -Dexamples=disabled -Dtests=disabled -Dnls=disabled -Ddoc=disabled -Dorc=disabled \
  -Dpackage-name="GStreamer Good Plug-ins $fetched + Manifold rtpsession patches" \
  -Dpackage-origin="subprojects/gst-rtpmanager-patched" >"$OUT/meson-setup.log" 2>&1 ||
  { tail -30 "$OUT/meson-setup.log"; die "meson setup failed (log: $OUT/meson-setup.log)"; }
ninja -C "$OUT/_build" -j "${MANIFOLD_JOBS:-2}" gst/rtpmanager/libgstrtpmanager.so >"$OUT/ninja.log" 2>&1 ||
  { tail -30 "$OUT/ninja.log"; die "building rtpmanager failed (log: $OUT/ninja.log)"; }
mkdir -p "$OUT/lib"
cp "$OUT/_build/gst/rtpmanager/libgstrtpmanager.so" "$OUT/lib/libgstrtpmanager.so.new"
mv "$OUT/lib/libgstrtpmanager.so.new" "$OUT/lib/libgstrtpmanager.so"
echo "$fingerprint" >"$OUT/stamp"
say "built $OUT/lib/libgstrtpmanager.so from $PACKAGE $fetched in $(( $(date +%s) - started )) s"
