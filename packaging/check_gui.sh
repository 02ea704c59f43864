#!/usr/bin/env bash
# The frozen desktop app captioning real speech from a (private) microphone; run by check_bundle.sh
# under Xvfb:  xvfb-run -a bash packaging/check_gui.sh OUT BUNDLE [OFFLINE-COMMAND…]
#
# A private PulseAudio server with a null sink stands in for the sound card; its monitor is the
# default source, so the app's "Microphone" (PortAudio from the bundle → the system's ALSA →
# PulseAudio) hears the JFK sample that paplay plays into the sink. The app is started with no
# arguments, exactly as the menu entry does, then Start is pressed (Ctrl+Return) with xdotool. Writes to OUT:
# gui.png, gui-output.txt, sayline.log, pulseaudio.log, and gui-times.txt (seconds: launch to
# "model ready", then sound start to the first committed caption in the autosaved session).
# With CHECK_SPEAKERS=1 the user has Speakers switched on (settings.json) and the sample is
# two_voices.wav: the session must then hold lines of two speakers; files are named *-speakers*.
set -euo pipefail
OUT="$1" BUNDLE="$2"; shift 2
OFFLINE=("$@")
HERE="$(cd "$(dirname "$0")/.." && pwd)"
SAMPLE="$HERE/resources/samples/jfk.wav"
TAG=""
if [ "${CHECK_SPEAKERS:-0}" = 1 ]; then
    SAMPLE="$HERE/resources/samples/two_voices.wav"
    TAG="-speakers"
fi
HOME_DIR="$OUT/home-gui$TAG"
LOG="$HOME_DIR/.local/share/Sayline/logs/sayline.log"
SESSIONS="$HOME_DIR/.local/share/Sayline/sessions"
PULSE="$OUT/pulse"
SINK=sayline_check
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
fail() {
    import -window root "$OUT/gui-failed.png" 2>/dev/null || true
    echo "check_gui: FAILED: $* (screen: gui-failed.png)" >&2
    exit 1
}
wait_for() {  # wait_for SECONDS COMMAND…: poll until it succeeds, while the app is alive
    local deadline=$(( $(date +%s) + $1 )); shift
    until "$@" 2>/dev/null; do
        kill -0 "$app" 2>/dev/null || fail "the desktop app exited early (see gui-output.txt)"
        (( $(date +%s) < deadline )) || return 1
        sleep 0.2
    done
}

rm -rf "$PULSE" "$HOME_DIR"
mkdir -p "$PULSE" "$HOME_DIR"
if [ -n "$TAG" ]; then
    mkdir -p "$HOME_DIR/.config/Sayline"
    echo '{"version": 1, "diarization": true}' > "$HOME_DIR/.config/Sayline/settings.json"
fi
env HOME="$PULSE" XDG_RUNTIME_DIR="$PULSE" XDG_CONFIG_HOME="$PULSE/config" \
    PULSE_RUNTIME_PATH="$PULSE/runtime" PULSE_STATE_PATH="$PULSE/state" \
    pulseaudio -n --daemonize=no --exit-idle-time=-1 --disable-shm=1 --system=false \
    --use-pid-file=false --log-target=stderr \
    -L "module-native-protocol-unix auth-anonymous=1 socket=$PULSE/native" \
    -L "module-null-sink sink_name=$SINK" > "$OUT/pulseaudio.log" 2>&1 &
pulse=$!
app=$pulse  # wait_for checks that something is alive before the app starts
trap 'kill "$app" "$pulse" 2>/dev/null || true' EXIT
export PULSE_SERVER="unix:$PULSE/native"
wait_for 15 pactl info > /dev/null || fail "the private PulseAudio server did not start"
pactl set-default-sink "$SINK"
pactl set-default-source "$SINK.monitor"

start=$(now)
"${OFFLINE[@]}" env -i PATH="$OUT/empty-path" HOME="$HOME_DIR" DISPLAY="$DISPLAY" \
    XAUTHORITY="${XAUTHORITY:-}" PULSE_SERVER="$PULSE_SERVER" LANG=C.UTF-8 \
    "$BUNDLE" > "$OUT/gui-output$TAG.txt" 2>&1 &
app=$!
wait_for 300 grep -q "model ready" "$LOG" || fail "the model never became ready"
ready=$(since "$start")

window=$(xdotool search --sync --onlyvisible --name '^Sayline$' | head -n 1)
# Start by its shortcut, as a keyboard user would: a click needs the layout's coordinates, and the
# menu bar above the buttons moved Start once already.
xdotool windowfocus --sync "$window"
xdotool key --clearmodifiers ctrl+Return
sleep 1
played=$(now)
paplay -d "$SINK" "$SAMPLE" &
first_line() { grep -qs '"text": *"[A-Za-z]' "$SESSIONS"/*.jsonl; }
wait_for 60 first_line || fail "no caption was committed within 60 s of the speech starting"
caption=$(since "$played")
wait $!
sleep 3  # the last words commit after a pause; let the transcript and the overlay paint
if [ -n "$TAG" ]; then
    two_speakers() { [ "$(grep -ho '"speaker": *[1-9]' "$SESSIONS"/*.jsonl | sort -u | wc -l)" -ge 2 ]; }
    wait_for 20 two_speakers || fail "Speakers was on, but the session's lines do not carry two speakers"
fi
import -window root "$OUT/gui$TAG.png"
cp "$LOG" "$OUT/sayline$TAG.log"
printf '%s %s\n' "$ready" "$caption" > "$OUT/gui-times$TAG.txt"
