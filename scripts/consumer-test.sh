#!/usr/bin/env bash
# Consumer test: daytona-native as a user gets it. Packs the main and platform packages
# (scripts/pack.sh), installs them into a fresh project inside a Debian 11 (bullseye, glibc 2.31)
# root file system made by debootstrap, with no network (own network namespace), no Rust and no
# C compiler there and the host's Node copied in, then:
#   - `npm install --offline` of the two tarballs must print no npm warning,
#   - scripts/consumer/main.js and esm.mjs: load the addon from the platform package, build an
#     Image, plan() it, check the error classes (no Docker involved),
#   - scripts/consumer/consumer.ts is type-checked with `tsc --strict` and no @types/node.
# It also checks the shipped binary's glibc floor (no GLIBC_ symbol version above 2.17).
#
# Needs root (debootstrap, chroot, unshare). The bullseye rootfs is cached as a tarball in
# $DAYTONA_SERVICES_DIR/cache (default .services/cache): the first run pays the debootstrap
# (~1-2 min), later runs a few seconds.
set -euo pipefail

REPO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SERVICES_DIR=${DAYTONA_SERVICES_DIR:-$REPO_DIR/.services}
DEBIAN_MIRROR=${DAYTONA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bullseye
GLIBC_FLOOR=2.17
BINARY=$REPO_DIR/daytona-native.linux-x64-gnu.node
LOG_DIR=$SERVICES_DIR/logs
LOG=$LOG_DIR/consumer-test.log

SCRIPT_NAME=consumer-test
# shellcheck source=lib/shell.sh
source "$REPO_DIR/scripts/lib/shell.sh"

[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, unshare)"
mkdir -p "$SERVICES_DIR/cache" "$SERVICES_DIR/tmp" "$LOG_DIR"
exec 9>"$SERVICES_DIR/.consumer-test.lock"
flock 9
t_all=$(now_ms)

# --- Debian bullseye root, from the cached tarball or debootstrap ---------------------------------
ROOTFS_TAR=$SERVICES_DIR/cache/debian-$SUITE-minbase-$(echo "$DEBIAN_MIRROR" | md5sum | cut -c1-8).tar
if [ ! -s "$ROOTFS_TAR" ]; then
  t0=$(now_ms)
  command -v debootstrap >/dev/null || apt_install debootstrap
  scratch=$(mktemp -d "$SERVICES_DIR/tmp/debootstrap-$SUITE.XXXXXX")
  echo "=== $(date -Is) debootstrap --variant=minbase $SUITE" >>"$LOG"
  if ! env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin debootstrap --variant=minbase "$SUITE" "$scratch" "$DEBIAN_MIRROR" >>"$LOG" 2>&1; then
    cat "$scratch/debootstrap/debootstrap.log" >>"$LOG" 2>/dev/null || true
    rm_tree "$scratch"
    die "debootstrap $SUITE failed (log: $LOG)"
  fi
  logged "$LOG" tar --numeric-owner -C "$scratch" --exclude='./var/lib/apt/lists/*_*' \
    --exclude='./var/cache/apt/archives/*.deb' -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  rm_tree "$scratch"
  find "$SERVICES_DIR/cache" -maxdepth 1 -name "debian-$SUITE-minbase-*.tar" ! -path "$ROOTFS_TAR" -delete
  say "debootstrap $SUITE minbase in $(since "$t0"), cached as $ROOTFS_TAR"
fi


# --- the shipped binary's glibc floor -------------------------------------------------------------
[ -f "$BINARY" ] || die "no $BINARY: npm run build"
command -v objdump >/dev/null || apt_install binutils
max_glibc=$(objdump -T "$BINARY" | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1)
if [ "$(printf '%s\n%s\n' "$max_glibc" "$GLIBC_FLOOR" | sort -V | tail -n1)" != "$GLIBC_FLOOR" ]; then
  die "$(basename "$BINARY") needs GLIBC_$max_glibc, above the $GLIBC_FLOOR floor (built without the cross toolchain?)"
fi
say "binary: highest GLIBC symbol version $max_glibc (floor $GLIBC_FLOOR)"

# --- packs -----------------------------------------------------------------------------------------
t0=$(now_ms)
PACKS=$SERVICES_DIR/packs
bash "$REPO_DIR/scripts/pack.sh" "$PACKS" >"$LOG_DIR/pack.out" 2>>"$LOG" || { cat "$LOG_DIR/pack.out" >&2; die "pack failed (log: $LOG)"; }
mapfile -t tarballs <"$LOG_DIR/pack.out"
sizes=$(for t in "${tarballs[@]}"; do printf '%s %s KiB; ' "$(basename "$t")" $(( $(stat -c %s "$t") / 1024 )); done)
say "packed in $(since "$t0"): ${sizes%; }"

t0=$(now_ms)
for d in "$SERVICES_DIR"/tmp/consumer.*; do [ -e "$d" ] && rm_tree "$d"; done
ROOT=$(mktemp -d "$SERVICES_DIR/tmp/consumer.XXXXXX")
trap 'rm_tree "$ROOT"' EXIT
logged "$LOG" tar --numeric-owner -xpf "$ROOTFS_TAR" -C "$ROOT"

# Node and npm from this machine (a Node build needing glibc <= 2.31 and GLIBCXX <= 3.4.28);
# TypeScript from the devDependencies, outside the consumer project.
NODE_BIN=$(command -v node)
NPM_DIR=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
mkdir -p "$ROOT/usr/local/bin" "$ROOT/usr/local/lib/node_modules" "$ROOT/opt"
cp "$NODE_BIN" "$ROOT/usr/local/bin/node"
cp -a "$NPM_DIR" "$ROOT/usr/local/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$ROOT/usr/local/bin/npm"
cp -a "$REPO_DIR/node_modules/typescript" "$ROOT/opt/typescript"
mkdir -p "$ROOT/tmp/packs" "$ROOT/home/consumer"
cp "${tarballs[@]}" "$ROOT/tmp/packs/"
cp "$REPO_DIR"/scripts/consumer/{main.js,esm.mjs,consumer.ts,tsconfig.json} "$REPO_DIR/scripts/require-time.js" "$ROOT/home/consumer/"
printf '{\n  "name": "consumer",\n  "version": "1.0.0",\n  "private": true\n}\n' >"$ROOT/home/consumer/package.json"
: >"$ROOT/etc/resolv.conf"
main_tgz=/tmp/packs/$(basename "$(printf '%s\n' "${tarballs[@]}" | grep -v -- '-linux-')")
platform_tgz=/tmp/packs/$(basename "$(printf '%s\n' "${tarballs[@]}" | grep -- '-linux-x64-gnu-')")

cat >"$ROOT/home/consumer/run.sh" <<EOF
set -eu
cd /home/consumer
echo "glibc: \$(getconf GNU_LIBC_VERSION)"
for tool in cc gcc clang rustc cargo; do
  if command -v "\$tool" >/dev/null; then echo "\$tool is present in the consumer root" >&2; exit 1; fi
done
# --offline: no registry at all; the optional packages of other platforms are skipped as
# missing (npm would otherwise retry the unreachable registry for them for minutes).
npm install --offline --no-audit --no-fund $main_tgz $platform_tgz >npm-install.out 2>npm-install.err
cat npm-install.out npm-install.err
if grep -qi 'warn' npm-install.out npm-install.err; then echo "npm printed a warning" >&2; exit 1; fi
if [ -e node_modules/@types ]; then echo "node_modules/@types exists" >&2; exit 1; fi
node main.js
node esm.mjs
node /opt/typescript/bin/tsc -p tsconfig.json
echo "tsc --strict without @types/node: OK"
node require-time.js "${DAYTONA_REQUIRE_RUNS:-21}"
EOF

say "bullseye root ready in $(since "$t0"); running the consumer (no network)"
# Own network namespace (loopback only, down), mount namespace (the /proc mount goes away with
# it) and pid namespace; an empty environment.
t0=$(now_ms)
if ! unshare --net --mount --pid --fork sh -c '
    mount -t proc proc "$1/proc" && exec chroot "$1" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin \
      HOME=/root LANG=C.UTF-8 /bin/sh /home/consumer/run.sh' _ "$ROOT" >"$LOG_DIR/consumer.out" 2>&1; then
  sed 's/^/    /' "$LOG_DIR/consumer.out" >&2
  die "the consumer run failed (output above; log $LOG_DIR/consumer.out)"
fi
sed 's/^/    /' "$LOG_DIR/consumer.out" >&2
say "consumer run in $(since "$t0"); all in $(since "$t_all")"
