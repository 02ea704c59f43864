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
#   3. sayline with no arguments under Xvfb opens the desktop app, which captions the sample heard
#      through its microphone (a private PulseAudio server): times, a screenshot, the log.
#   4. The .deb's /usr/bin/sayline link starts the app.
#   5. sayline serve (bundled tiny.en) serves the caption page and /health (loopback, so no unshare).
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

missing_tools=()
for tool in xvfb-run xdotool import pulseaudio pactl paplay script unshare curl; do
    command -v "$tool" > /dev/null || missing_tools+=("$tool")
done
if ((${#missing_tools[@]})); then
    echo "check_bundle: missing tools: ${missing_tools[*]};" \
        "install them with: bash scripts/setup.sh --packaging" >&2
    exit 1
fi

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
    "${OFFLINE[@]}" env -i PATH="$OUT/empty-path" HOME="$home" LANG=C.UTF-8 "$@"
}

archives=$(ls dist/*.tar.gz dist/*.deb 2>/dev/null | xargs -r du -h | tr '\t\n' ' ')
say "bundle: $(du -sh dist/sayline | cut -f1) folder; $archives"

# LD_LIBRARY_PATH as the bootloader sets it: without it, the libraries the bundle carries count as missing.
missing=$(LD_LIBRARY_PATH="$PWD/dist/sayline/_internal" find dist/sayline -name '*.so*' -type f -exec ldd {} + 2>/dev/null \
    | awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')
say "system libraries not found on this machine: ${missing:-none}"

# 1. Selftest: the base model transcribes the JFK sample, offline.
start=$(now)
if ! isolated "$OUT/home-selftest" "$BUNDLE" --selftest > "$OUT/selftest.txt" 2>&1; then
    cat "$OUT/selftest.txt" >&2
    echo "check_bundle: FAILED: the frozen selftest did not pass." >&2
    exit 1
fi
say "selftest passed in $(since "$start") s (first run, fresh HOME): $(sed -n 2p "$OUT/selftest.txt")"
# The selftest also streams the bundled two-voice sample with speakers on (the ONNX diarization
# models, no torch in the bundle): each voice must get its own label.
if ! grep -q "with speakers: 2 speaker(s)" "$OUT/selftest.txt" || ! grep -qx "selftest: speakers OK" "$OUT/selftest.txt"
then
    cat "$OUT/selftest.txt" >&2
    echo "check_bundle: FAILED: the frozen app did not give the two voices two labels." >&2
    exit 1
fi
say "speakers: $(grep "with speakers" "$OUT/selftest.txt"); torch in the bundle: $(find dist/sayline -path '*torch*' -name '*.so*' | wc -l) libraries"
# Cold start to the first speaker-tagged caption: the two-voice sample in real time with speakers
# on, from launch (fresh HOME) to the first line printed. transcribe prints a line once the next
# one begins and lines wait for their speaker, so this is an upper bound on what the overlay shows.
start=$(now)
first=""
while IFS= read -r line; do
    echo "$line" >> "$OUT/speakers-cold.txt"
    [[ -z "$first" && "$line" =~ ^[0-9:]+\.[0-9]{2}\ \ [A-Za-z] ]] && first=$(since "$start")
done < <(isolated "$OUT/home-speakers" "$BUNDLE" transcribe "$PWD/resources/samples/two_voices.wav" \
    --diarization --realtime --no-refine --language en 2>&1 > "$OUT/speakers-cold-transcript.txt")
labels=$(grep -o "^Speaker [0-9]*" "$OUT/speakers-cold-transcript.txt" | sort -u | wc -l)
if [ -z "$first" ] || [ "$labels" -ne 2 ]; then
    cat "$OUT/speakers-cold.txt" "$OUT/speakers-cold-transcript.txt" >&2
    echo "check_bundle: FAILED: frozen transcribe --diarization gave no caption or not two speakers." >&2
    exit 1
fi
say "cold start (fresh HOME, --diarization, real time): first speaker-tagged line printed ${first} s" \
    "after launch (speech starts at 0.6 s); ${labels} speakers"
if isolated "$OUT/home-selftest" "$BUNDLE" --selftest --model /no/such/model > "$OUT/selftest-bad.txt" 2>&1
then
    echo "check_bundle: FAILED: the selftest passed with a missing model." >&2
    exit 1
fi
say "selftest with a missing model fails as it should: $(tail -n 1 "$OUT/selftest-bad.txt")"
if [ -x .venv/bin/python ]; then  # the same selftest from source, now, on this machine: a fair ratio
    start=$(now)
    SAYLINE_DATA_DIR="$OUT/home-source" .venv/bin/python main.py --selftest > "$OUT/selftest-source.txt" 2>&1
    say "for comparison, the selftest from source (.venv, base joined on this first run):" \
        "$(since "$start") s"
fi

# 2. No display, no arguments: the live demo, on a terminal (script(1) gives it one) so that it
#    shows words as they are heard. Timed from launch: model loaded, first words, first final line.
start=$(now)
loaded="" words="" line=""
words_re="…( |"$'\e'"\[[0-9;]*m)*[A-Za-z]"  # the live line, its grey part included
mkdir -p "$OUT/home-demo"
while IFS= read -r -d $'\r' chunk; do
    printf '%s\r' "$chunk" >> "$OUT/demo.txt"
    [[ -z "$loaded" && "$chunk" == *"Captioning jfk.wav"* ]] && loaded=$(since "$start")
    [[ -z "$words" && "$chunk" =~ $words_re ]] && words=$(since "$start")
    [[ -z "$line" && "$chunk" =~ [0-9]:[0-9]{2}\.[0-9]{2}\ \ [A-Za-z] ]] && line=$(since "$start")
done < <(script -qefc "$(printf '%q ' "${OFFLINE[@]}" env -i PATH="$OUT/empty-path" HOME="$OUT/home-demo" \
    LANG=C.UTF-8 TERM=dumb "$BUNDLE")" /dev/null)
if [ -z "$words" ]; then
    cat "$OUT/demo.txt" >&2
    echo "check_bundle: FAILED: the demo showed no caption." >&2
    exit 1
fi
say "demo (no display, no arguments): model loaded ${loaded} s, first words on screen ${words} s," \
    "first final line ${line:-?} s after launch; done after $(since "$start") s"

# 3. The desktop app under Xvfb, started with no arguments, captions the sample from a private
#    PulseAudio "microphone" (packaging/check_gui.sh): time to "model ready", time to a caption.
xvfb-run -a -s "-screen 0 1280x800x24" bash packaging/check_gui.sh "$OUT" "$BUNDLE" "${OFFLINE[@]}"
read -r ready caption < "$OUT/gui-times.txt"
say "desktop app (Xvfb, no arguments, microphone = private PulseAudio): model ready ${ready} s after" \
    "launch; first committed caption ${caption} s after the speech started;" \
    "log in \$HOME/.local/share/Sayline/logs; screenshot build/check/gui.png"
# 3b. The same with Speakers switched on and two voices: the window shows two speakers' lines.
CHECK_SPEAKERS=1 xvfb-run -a -s "-screen 0 1280x800x24" bash packaging/check_gui.sh "$OUT" "$BUNDLE" "${OFFLINE[@]}"
read -r ready caption < "$OUT/gui-times-speakers.txt"
say "desktop app with Speakers on (two_voices.wav): model ready ${ready} s after launch; first caption" \
    "${caption} s after the speech started; two speakers' lines; screenshot build/check/gui-speakers.png"

# 4. The .deb installs /usr/bin/sayline as a link to /opt/sayline/sayline: the app must start through it.
if deb=$(ls dist/sayline_*.deb 2>/dev/null | head -n 1) && [ -n "$deb" ]; then
    dpkg-deb -x "$deb" "$OUT/deb"
    ln -s "$OUT/deb/opt/sayline/sayline" "$OUT/sayline-link"
    version=$(isolated "$OUT/home-deb" "$OUT/sayline-link" --version)
    say "$(basename "$deb") contents start through a link: $version"
fi
# 5. The server with the bundled tiny.en: the caption page and /health come from the bundle. It
#    needs the loopback interface, so this step alone runs without unshare (still env -i, empty PATH).
port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$OUT/home-serve"
env -i PATH="$OUT/empty-path" HOME="$OUT/home-serve" LANG=C.UTF-8 \
    "$BUNDLE" serve --model tiny.en --port "$port" > "$OUT/serve.txt" 2>&1 &
server=$!
for _ in $(seq 300); do grep -q "server ready" "$OUT/serve.txt" && break; sleep 0.2; done
page=$(curl -fsS "http://127.0.0.1:$port/" | grep -o "<title>[^<]*</title>" || true)
health=$(curl -fsS "http://127.0.0.1:$port/health" || true)
# A foreign page's WebSocket handshake is refused (403); an upload of the sample is transcribed.
foreign=$(curl -s -o /dev/null -w "%{http_code}" -H "Origin: https://evil.example" -H "Upgrade: websocket" \
    -H "Connection: Upgrade" -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" -H "Sec-WebSocket-Version: 13" \
    "http://127.0.0.1:$port/asr" || true)
upload=$(curl -sS -F "file=@$PWD/resources/samples/jfk.wav" -F response_format=text \
    "http://127.0.0.1:$port/v1/audio/transcriptions" || true)
kill -INT "$server"; wait "$server" || true
if [[ "$page" != *Sayline* || "$health" != *tiny.en* || "$foreign" != 403 || "$upload" != *country* ]]; then
    cat "$OUT/serve.txt" >&2
    echo "check_bundle: FAILED: the bundled server did not serve its page, refuse a foreign page or transcribe an upload." >&2
    exit 1
fi
say "server (bundled tiny.en): GET / -> $page; GET /health -> $health; foreign page's /asr -> $foreign; upload -> $upload"
say "OK"
