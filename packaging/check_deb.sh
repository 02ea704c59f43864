#!/usr/bin/env bash
# The .deb installed and removed for real, in a throwaway Debian root (debootstrap + chroot).
#   sudo bash packaging/check_deb.sh [path/to/sayline_VERSION_ARCH.deb]    (default: the newest in dist/)
#
# Not part of pytest: it needs root (chroot, mount), debootstrap and the Debian archive, and takes
# minutes. Steps, each timed, each failing the script if it does not hold:
#   1. A minimal Debian root (debootstrap --variant=minbase; made once into build/check-deb/base and
#      copied fresh for every run, so no run sees what an earlier one installed).
#   2. apt-get install ./sayline.deb, without recommends: apt must resolve the Depends by itself.
#   3. The installed files: /opt/sayline/sayline, the /usr/bin/sayline link, the menu entry and
#      both icons; the libraries the bundle needs but this minimal system lacks are listed (info).
#   4. sayline --version and sayline --selftest as an ordinary user with a fresh HOME, an empty
#      environment and no network (unshare -n): the JFK words and the two voices must come out.
#   5. dpkg -r sayline, then dpkg -P: /opt/sayline, /usr/bin/sayline, the menu entry and the icons
#      must be gone, and dpkg must know nothing of the package.
# Environment: SAYLINE_DEB_SUITE (default bookworm), SAYLINE_DEB_MIRROR (default: the Debian mirror
# apt uses on this machine, else deb.debian.org), SAYLINE_DEB_FRESH_BASE=1 to debootstrap again,
# SAYLINE_DEB_KEEP=1 to keep the root afterwards. Results: build/check-deb/results.txt.
# shellcheck disable=SC2016  # '${Package}' and the like are dpkg-query's formats, not the shell's
set -euo pipefail
cd "$(dirname "$0")/.."

deb="${1:-$(find dist -maxdepth 1 -name 'sayline_*.deb' -printf '%T@ %p\n' 2>/dev/null | sort -rn | head -n 1 | cut -d' ' -f2-)}"
[ -f "$deb" ] || { echo "check_deb: no .deb given and none in dist/; run packaging/build.py" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "check_deb: needs root (debootstrap, chroot, mount)" >&2; exit 1; }
command -v debootstrap > /dev/null || { echo "check_deb: needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }

WORK="$PWD/build/check-deb"
BASE="$WORK/base"
ROOT="$WORK/root"
RESULTS="$WORK/results.txt"
SUITE="${SAYLINE_DEB_SUITE:-bookworm}"
mkdir -p "$WORK"
: > "$RESULTS"
say() { echo "check_deb: $*" | tee -a "$RESULTS"; }
fail() { say "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# The Debian mirror apt already uses here (a local mirror is much faster), else the public one.
apt_debian_mirror() {
    { grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{ print $2 }'
      grep -hs '^deb ' /etc/apt/sources.list | awk '{ print $2 }'; } \
        | grep -v security | grep -E '/debian/?$' | head -n 1
}
MIRROR="${SAYLINE_DEB_MIRROR:-$(apt_debian_mirror || true)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

cleanup() {
    # Unmount before anything is removed: rm -rf through a mounted /proc would be a disaster.
    for mount_point in "$ROOT/dev/shm" "$ROOT/proc"; do
        mountpoint -q "$mount_point" && umount "$mount_point"
    done
    if [ "${SAYLINE_DEB_KEEP:-0}" != 1 ] && ! mountpoint -q "$ROOT/proc"; then
        rm -rf "$ROOT"
    fi
}
trap cleanup EXIT

in_root() { chroot "$ROOT" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

say "package: $deb ($(du -m "$deb" | cut -f1) MiB); Debian $SUITE from $MIRROR"

# 1. A minimal Debian root.
if [ "${SAYLINE_DEB_FRESH_BASE:-0}" = 1 ]; then rm -rf "$BASE"; fi
if [ ! -x "$BASE/usr/bin/apt-get" ]; then
    started=$(now)
    rm -rf "$BASE.partial"
    debootstrap --variant=minbase "$SUITE" "$BASE.partial" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
        || { tail -n 20 "$WORK/debootstrap.log" >&2; fail "debootstrap failed (log: $WORK/debootstrap.log)"; }
    mv "$BASE.partial" "$BASE"
    say "debootstrap --variant=minbase $SUITE: $(since "$started") s"
fi
started=$(now)
rm -rf "$ROOT"
cp -a "$BASE" "$ROOT"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"  # apt inside the root fetches the dependencies
say "fresh root: $(since "$started") s ($(du -sm "$ROOT" | cut -f1) MiB, $(in_root dpkg-query -W | wc -l) packages)"
mount -t proc proc "$ROOT/proc"
mkdir -p "$ROOT/dev/shm" && mount -t tmpfs shm "$ROOT/dev/shm"

# 2. Install: apt resolves Depends; recommends are left out to prove the Depends are enough.
started=$(now)
cp "$deb" "$ROOT/tmp/sayline.deb"
in_root apt-get update -qq > "$WORK/apt.log" 2>&1 || fail "apt-get update failed (log: $WORK/apt.log)"
before=$(in_root dpkg-query -W -f '${Package}\n' | sort)
if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        /tmp/sayline.deb >> "$WORK/apt.log" 2>&1; then
    tail -n 20 "$WORK/apt.log" >&2
    fail "apt-get install ./sayline.deb failed (log: $WORK/apt.log)"
fi
rm "$ROOT/tmp/sayline.deb"
pulled=$(comm -13 <(echo "$before") <(in_root dpkg-query -W -f '${Package}\n' | sort) | grep -vx sayline || true)
say "apt-get install ./sayline.deb: $(since "$started") s; it pulled in $(echo "$pulled" | grep -c . || true) packages: $(echo "$pulled" | tr '\n' ' ')"
status=$(in_root dpkg-query -W -f '${Status} ${Version}' sayline)
[[ "$status" == "install ok installed "* ]] || fail "dpkg status is '$status'"
say "dpkg: sayline $status"

# 3. What it installed.
[ -x "$ROOT/opt/sayline/sayline" ] || fail "/opt/sayline/sayline is missing"
[ "$(readlink "$ROOT/usr/bin/sayline")" = /opt/sayline/sayline ] || fail "/usr/bin/sayline is not a link to /opt/sayline/sayline"
INSTALLED=(/usr/share/applications/sayline.desktop /usr/share/icons/hicolor/scalable/apps/sayline.svg
           /usr/share/icons/hicolor/256x256/apps/sayline.png)
for file in "${INSTALLED[@]}"; do
    [ -s "$ROOT$file" ] || fail "$file is missing"
done
grep -qx 'Exec=sayline gui' "$ROOT/usr/share/applications/sayline.desktop" || fail "the menu entry does not run 'sayline gui'"
grep -qx 'Icon=sayline' "$ROOT/usr/share/applications/sayline.desktop" || fail "the menu entry names another icon"
if command -v desktop-file-validate > /dev/null; then
    desktop-file-validate "$ROOT/usr/share/applications/sayline.desktop" || fail "desktop-file-validate"
fi
say "files: /opt/sayline ($(du -sm "$ROOT/opt/sayline" | cut -f1) MiB, $(in_root dpkg -L sayline | wc -l) paths), /usr/bin/sayline -> /opt/sayline/sayline, menu entry, SVG and 256 px icons"
# The libraries of the bundle that a minimal system lacks: what a desktop brings (X11/Wayland, fonts).
# Not a failure: the selftest below is what must work on a bare system; the list says what the GUI
# relies on the desktop for. LD_LIBRARY_PATH as the bootloader sets it, so bundled ones count.
lacking=$(in_root sh -c 'LD_LIBRARY_PATH=/opt/sayline/_internal find /opt/sayline -type f -name "*.so*" -exec ldd {} + 2>/dev/null' \
    | awk '/not found/ { print $1 }' | sort -u | tr '\n' ' ')
say "libraries the bundle's files load but this minimal root lacks: ${lacking:-none}"

# 4. Run it as an ordinary user: fresh HOME, empty environment, no network.
in_root useradd --create-home --shell /bin/sh tester
as_tester() {
    unshare -n chroot --userspec=tester:tester "$ROOT" \
        env -i HOME=/home/tester PATH=/usr/bin:/bin LANG=C.UTF-8 "$@"
}
version=$(as_tester sayline --version 2>&1) || fail "sayline --version: $version"
say "sayline --version: $version"
started=$(now)
if ! as_tester sayline --selftest > "$WORK/selftest.txt" 2>&1; then
    tail -n 20 "$WORK/selftest.txt" >&2
    fail "sayline --selftest failed (output: $WORK/selftest.txt)"
fi
grep -q '^selftest: OK' "$WORK/selftest.txt" || fail "no 'selftest: OK' line"
grep -q '^selftest: speakers OK' "$WORK/selftest.txt" || fail "no 'selftest: speakers OK' line"
say "sayline --selftest as a user, no network: exit 0 in $(since "$started") s; $(grep -E '^selftest: (jfk|two_voices)' "$WORK/selftest.txt" | tr '\n' ' ')"

# 5. Remove, then purge; nothing of the package may stay.
started=$(now)
in_root dpkg -r sayline > "$WORK/remove.log" 2>&1 || fail "dpkg -r sayline (log: $WORK/remove.log)"
if grep -qi 'not empty' "$WORK/remove.log"; then fail "dpkg -r left files behind: $(grep -i 'not empty' "$WORK/remove.log")"; fi
for path in /opt/sayline /usr/bin/sayline "${INSTALLED[@]}"; do
    if [ -e "$ROOT$path" ] || [ -L "$ROOT$path" ]; then fail "$path is still there after dpkg -r"; fi
done
in_root dpkg -P sayline >> "$WORK/remove.log" 2>&1 || fail "dpkg -P sayline (log: $WORK/remove.log)"
if in_root dpkg-query -W -f '${Status}' sayline > /dev/null 2>&1; then
    fail "dpkg still lists sayline: $(in_root dpkg-query -W -f '${Status}' sayline)"
fi
say "dpkg -r, dpkg -P: $(since "$started") s; /opt/sayline, /usr/bin/sayline, the menu entry and icons are gone"
say "PASS"
