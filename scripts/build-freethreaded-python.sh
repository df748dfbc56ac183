#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (./configure --disable-gil), or with --gil the standard
# build of the same source, into a cache folder outside the repository and print the
# interpreter's path as the last line of stdout. Everything else goes to stderr, so
# `PY=$(scripts/build-freethreaded-python.sh)` just works.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/build-freethreaded-python.sh [--gil] [--help]

Builds CPython 3.13 with --disable-gil into $CACHE/python3.13t and prints the path of
$CACHE/python3.13t/bin/python3.13t. A later call that finds a working build prints it at once.
  --gil   build the standard (GIL) interpreter from the same source instead, into
          $CACHE/python3.13, and print $CACHE/python3.13/bin/python3.13: the 3.13 whose
          subinterpreters each have their own GIL (gilkit's `interpreters` runner).
  CACHE = ${GILKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gilkit}
Each build has its own folder, lock and stamp, so both can be built at the same time.
The source is Debian trixie's python3.13 upstream tarball (.orig.tar.xz, Debian patches not
applied), fetched with apt-get from the Debian mirror this machine's apt already uses, through
a private sources list (the system's apt state is left alone). GILKIT_DEBIAN_MIRROR=URI
overrides the mirror. Missing build dependencies are installed with apt-get when run as root.
EOF
}
gil_build=0
case "${1:-}" in -h|--help) usage; exit 0 ;; --gil) gil_build=1 ;; "") ;; *) usage >&2; exit 2 ;; esac
(($# <= 1)) || { usage >&2; exit 2; }

exec 3>&1 1>&2          # fd 3 = real stdout, kept for the one line we print; the rest to stderr
die() { echo "build-freethreaded-python: error: $*"; exit 1; }
say() { echo "build-freethreaded-python: $*"; }

CACHE=${GILKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gilkit}
# The checks a build must pass before its stamp is written, and on every fast path.
MODULES='import ssl, ctypes, sqlite3, zlib, bz2, lzma'
if ((gil_build)); then
  NAME=python3.13
  CONFIGURE_FLAGS=()
  # _interpreters: the subinterpreter module the interpreters-pep-734 backport builds on.
  CHECK="import sys, sysconfig
assert not sysconfig.get_config_var('Py_GIL_DISABLED'), 'a --disable-gil build'
assert sys._is_gil_enabled(), 'GIL is disabled at run time'
import _interpreters
$MODULES"
else
  NAME=python3.13t
  CONFIGURE_FLAGS=(--disable-gil)
  CHECK="import sys, sysconfig
assert sysconfig.get_config_var('Py_GIL_DISABLED') == 1, 'not a --disable-gil build'
assert not sys._is_gil_enabled(), 'GIL is enabled at run time'
$MODULES"
fi
PREFIX=$CACHE/$NAME
PY=$PREFIX/bin/$NAME
STAMP=$PREFIX/.gilkit-build-ok   # written only after a full install passed the check
ready() { [[ -f $STAMP && -x $PY ]] && "$PY" -c "$CHECK"; }

# Fast path, no lock: a finished build is reused as is.
if ready 2>/dev/null; then echo "$PY" >&3; exit 0; fi

# One builder at a time; a second caller waits here, then finds the first one's build.
mkdir -p "$CACHE"
exec 9>"$CACHE/.$NAME.lock"
flock 9 || die "cannot lock $CACHE/.$NAME.lock"
if ready 2>/dev/null; then echo "$PY" >&3; exit 0; fi

# Build dependencies (pkg-config lets configure find ssl/sqlite/lzma; the keyring checks trixie's Release).
DEPS=(build-essential pkg-config xz-utils ca-certificates debian-archive-keyring libssl-dev zlib1g-dev
      libffi-dev libsqlite3-dev libbz2-dev liblzma-dev uuid-dev libreadline-dev)
missing=()
for p in "${DEPS[@]}"; do
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) == installed ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  ((EUID == 0)) || die "missing packages; as root run: apt-get install -y --no-install-recommends ${missing[*]}"
  say "installing ${missing[*]}"
  # A fresh machine may have no package lists yet: update the system's lists and retry once.
  apt-get install -y --no-install-recommends "${missing[@]}" \
    || { apt-get update && apt-get install -y --no-install-recommends "${missing[@]}"; } \
    || die "could not install ${missing[*]}"
fi

# The Debian mirror apt already uses (first non-security archive), from deb822 or one-line sources.
find_mirror() {
  awk 'BEGIN{RS=""} /Types:[^\n]*deb/ && !/Enabled: *no/ && !/Suites:[^\n]*-security/ {
         if (match($0, /URIs:[ \t]*[^ \t\n]+/)) { u = substr($0, RSTART, RLENGTH); sub(/^URIs:[ \t]*/, "", u); print u } }' \
      /etc/apt/sources.list.d/*.sources 2>/dev/null || true
  sed -nE '/^deb[ \t]/{s/\[[^]]*\]//; /-security/d; s/^deb[ \t]+([^ \t]+).*/\1/p}' /etc/apt/sources.list 2>/dev/null || true
}
mirror=${GILKIT_DEBIAN_MIRROR:-$(find_mirror | sed -n 1p)}
[[ -n $mirror ]] || die "no Debian mirror found in the apt configuration; set GILKIT_DEBIAN_MIRROR"

BUILD=$CACHE/build-$NAME  # scratch: private apt state, download, sources; removed after success
rm -rf "$BUILD" "$PREFIX"   # leftovers of an interrupted or failed build
mkdir -p "$BUILD"/apt/{lists/partial,archives/partial,cache} "$BUILD/dl" "$BUILD/src"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Private apt configuration: its own sources list, index and caches, so nothing under /etc/apt or
# /var/lib/apt changes, and none of the system's post-update hooks run for this throwaway list.
cat >"$BUILD/apt/apt.conf" <<EOF
Dir::Etc::SourceList "$BUILD/apt/sources.list";
Dir::Etc::SourceParts "/dev/null";
Dir::State::Lists "$BUILD/apt/lists";
Dir::Cache "$BUILD/apt/cache";
Dir::Cache::Archives "$BUILD/apt/archives";
APT::Sandbox::User "root";  // the _apt user could not write into a private cache under \$HOME
#clear APT::Update::Post-Invoke-Success;
EOF
aptp() { apt-get -q -c "$BUILD/apt/apt.conf" "$@"; }
echo "deb-src [signed-by=$KEYRING] $mirror trixie main" >"$BUILD/apt/sources.list"
say "fetching python3.13 source from $mirror (trixie)"
if ! aptp update >"$BUILD/apt/update.log" 2>&1; then
  cat "$BUILD/apt/update.log"
  grep -qE 'NO_PUBKEY|EXPKEYSIG|KEYEXPIRED|not signed' "$BUILD/apt/update.log" || die "apt-get update failed"
  # Last resort, for a keyring that predates trixie's key: trust this source-only list's index.
  # apt-get source still checks the tarball against the index's checksums, but that index is
  # then unauthenticated: this guards against corrupt downloads, not against a bad mirror.
  say "warning: trixie's Release signature cannot be checked with $KEYRING; using trusted=yes"
  echo "deb-src [trusted=yes] $mirror trixie main" >"$BUILD/apt/sources.list"
  aptp update || die "apt-get update failed for the private trixie deb-src list"
fi
(cd "$BUILD/dl" && aptp source --download-only python3.13) || die "apt-get source python3.13 failed"
tarballs=("$BUILD"/dl/python3.13_3.13.*.orig.tar.xz); tarball=${tarballs[0]}
[[ -f $tarball ]] || die "no python3.13_3.13.*.orig.tar.xz in $BUILD/dl (is trixie's python3.13 still 3.13?)"
tar -xJf "$tarball" -C "$BUILD/src" --strip-components=1   # upstream tree; debian/ patches unused

say "building $(basename "$tarball") ${CONFIGURE_FLAGS[*]:-with the GIL} into $PREFIX (log: $BUILD/build.log)"
# No PGO/LTO: minutes instead of tens of minutes. The price is a slower interpreter than an
# optimized distribution build, so compare its runners with each other, not with another Python.
if ! (cd "$BUILD/src" && ./configure "${CONFIGURE_FLAGS[@]}" --disable-test-modules --prefix="$PREFIX" && make -j"$(nproc)" && make install) \
     >"$BUILD/build.log" 2>&1; then
  tail -n 40 "$BUILD/build.log"
  die "build failed; full log and build tree left in $BUILD"
fi
"$PY" -c "$CHECK" || die "the new interpreter failed the check (build tree left in $BUILD)"
touch "$STAMP"
rm -rf "$BUILD"
say "done"
echo "$PY" >&3
