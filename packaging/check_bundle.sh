#!/usr/bin/env bash
# The installer check: build the Linux bundle, then prove the frozen app works on its own.
#   bash packaging/check_bundle.sh              build (packaging/build.py), then check
#   bash packaging/check_bundle.sh --no-build   check the dist/sayline/ already built
#
# Not part of pytest: building takes minutes and the checks another ~2 minutes on 2 cores.
# Every step runs the bundle with an empty environment (env -i), an empty PATH (so no Python,
# no ffmpeg, no tool of the build machine), a fresh HOME, and no network (unshare -n) — the
# script fails, rather than skipping, if the network cannot be cut. Steps:
#   1. sayline --selftest (base model, bundled JFK sample) must exit 0; a missing model must exit 1.
#   2. sayline with no display and no arguments runs the live demo: time to the first caption.
#   3. sayline with no arguments under Xvfb opens the desktop app: time to "model ready", a
#      screenshot, the log in the user's data dir.
# Results: build/check/ (results.txt, selftest.txt, demo.txt, gui.png, sayline.log).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" != "--no-build" ]; then
    .venv/bin/python packaging/build.py
fi
BUNDLE="$PWD/dist/sayline/sayline"
[ -x "$BUNDLE" ] || { echo "check_bundle: $BUNDLE is missing; run packaging/build.py." >&2; exit 1; }

OUT="$PWD/build/check"
rm -rf "$OUT" && mkdir -p "$OUT/empty-path"
RESULTS="$OUT/results.txt"
: > "$RESULTS"
say() { echo "check_bundle: $*" | tee -a "$RESULTS"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

if unshare -n true 2>/dev/null; then
    OFFLINE=(unshare -n)
elif unshare -rn true 2>/dev/null; then
    OFFLINE=(unshare -rn)
else
    echo "check_bundle: cannot cut the network (unshare -n is not permitted here); run as root." >&2
    exit 1
fi

# Run the bundle as a user with nothing but the bundle: no PATH, no Python, no network, new HOME.
isolated() {
    local home="$1"; shift
    mkdir -p "$home"
    env -i PATH="$OUT/empty-path" HOME="$home" LANG=C.UTF-8 "$@"
}

say "bundle: $(du -sh dist/sayline | cut -f1) folder; $(ls dist/*.tar.gz dist/*.deb 2>/dev/null | xargs -r du -h | tr '\t\n' ' ')"

missing=$(find dist/sayline -name '*.so*' -type f -exec ldd {} + 2>/dev/null | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
say "system libraries not found on this machine: ${missing:-none}"

# 1. Selftest: the base model transcribes the JFK sample, offline.
start=$(now)
if ! isolated "$OUT/home-selftest" "${OFFLINE[@]}" "$BUNDLE" --selftest > "$OUT/selftest.txt" 2>&1; then
    cat "$OUT/selftest.txt" >&2
    echo "check_bundle: FAILED: the frozen selftest did not pass." >&2
    exit 1
fi
say "selftest passed in $(since "$start") s (first run, fresh HOME): $(sed -n 2p "$OUT/selftest.txt")"
if isolated "$OUT/home-selftest" "${OFFLINE[@]}" "$BUNDLE" --selftest --model /no/such/model > "$OUT/selftest-bad.txt" 2>&1; then
    echo "check_bundle: FAILED: the selftest passed with a missing model." >&2
    exit 1
fi
say "selftest with a missing model fails as it should: $(tail -n 1 "$OUT/selftest-bad.txt")"

# 2. No display, no arguments: the live demo. Time from launch to the first caption line.
start=$(now)
first=""
while IFS= read -r line; do
    echo "$line" >> "$OUT/demo.txt"
    if [ -z "$first" ] && [[ "$line" =~ ^[0-9]+:[0-9]{2} ]]; then
        first=$(since "$start")
    fi
done < <(isolated "$OUT/home-demo" "${OFFLINE[@]}" "$BUNDLE" 2>&1)
[ -n "$first" ] || { cat "$OUT/demo.txt" >&2; echo "check_bundle: FAILED: the demo printed no caption." >&2; exit 1; }
say "demo (no display, no arguments): first caption ${first} s after launch, done after $(since "$start") s"

# 3. The desktop app under Xvfb, started with no arguments: time to "model ready", a screenshot.
log="$OUT/home-gui/.local/share/Sayline/logs/sayline.log"
mkdir -p "$OUT/home-gui"
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
    out="$1" log="$2"; shift 2
    start=$(date +%s.%N)
    env -i PATH="$out/empty-path" HOME="$out/home-gui" DISPLAY="$DISPLAY" XAUTHORITY="$XAUTHORITY" \
        LANG=C.UTF-8 "$@" > "$out/gui-output.txt" 2>&1 &
    app=$!
    for _ in $(seq 600); do
        grep -q "model ready" "$log" 2>/dev/null && break
        kill -0 "$app" 2>/dev/null || { echo "check_bundle: the desktop app exited early" >&2; exit 1; }
        sleep 0.2
    done
    grep -q "model ready" "$log" || { echo "check_bundle: the model never became ready" >&2; kill "$app"; exit 1; }
    awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN { printf \"%.1f\", b - a }" > "$out/gui-ready-s.txt"
    sleep 2  # let the status bar and the overlay paint
    import -window root "$out/gui.png"
    kill "$app"
    wait "$app" || true
' _ "$OUT" "$log" "${OFFLINE[@]}" "$BUNDLE"
cp "$log" "$OUT/sayline.log"
say "desktop app (Xvfb, no arguments): model ready $(cat "$OUT/gui-ready-s.txt") s after launch; log written to \$HOME/.local/share/Sayline/logs/sayline.log; screenshot build/check/gui.png"

# 4. The .deb installs /usr/bin/sayline as a link to /opt/sayline/sayline: the app must start through it.
if deb=$(ls dist/sayline_*.deb 2>/dev/null | head -n 1) && [ -n "$deb" ]; then
    dpkg-deb -x "$deb" "$OUT/deb"
    ln -s "$OUT/deb/opt/sayline/sayline" "$OUT/sayline-link"
    say "$(basename "$deb") contents start through a link: $(isolated "$OUT/home-deb" "$OUT/sayline-link" --version)"
fi
say "OK"
