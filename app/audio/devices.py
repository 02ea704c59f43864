"""Input devices as PortAudio sees them, with stable ids the settings can store."""

from __future__ import annotations

from dataclasses import dataclass

from app.audio import portaudio
from app.audio.errors import AudioError

RESCAN_INTERVAL_S = 5.0


@dataclass(frozen=True)
class InputDevice:
    """One input device; ``id`` ("<host api>:<name>") survives restarts, ``index`` does not."""

    id: str
    index: int
    name: str
    host_api: str
    channels: int
    samplerate: float
    is_default: bool


def list_input_devices(rescan: bool = False) -> list[InputDevice]:
    """Every device that can record, the default input marked; ``rescan`` picks up hot-plugged ones."""
    sd = portaudio.sounddevice()
    if rescan:
        portaudio.rescan()
    try:
        with portaudio.LOCK:  # not in the middle of another thread's re-scan
            devices = sd.query_devices()
            host_apis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise AudioError(
            f"Sayline could not list audio devices ({exc}); check your sound settings and restart Sayline."
        ) from exc
    default_index = _default_input_index(sd, host_apis)
    found: list[InputDevice] = []
    seen: dict[str, int] = {}
    for index, info in enumerate(devices):
        if info["max_input_channels"] <= 0:
            continue
        host_api = host_apis[info["hostapi"]]["name"]
        key = f"{host_api}:{info['name']}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:  # two identical USB microphones: keep ids distinct and stable by order
            key = f"{key} #{seen[key]}"
        found.append(InputDevice(
            id=key,
            index=index,
            name=info["name"],
            host_api=host_api,
            channels=int(info["max_input_channels"]),
            samplerate=float(info["default_samplerate"]),
            is_default=index == default_index,
        ))
    return found


def resolve_input_device(device_id: str | None) -> InputDevice:
    """The device with ``device_id``, else the default input (also when ``device_id`` is None).

    Falling back instead of failing keeps captions going when a saved microphone is unplugged; the
    caller compares ids to tell the user. A missing id triggers one re-scan, in case it was just
    plugged in (at most every few seconds: while a device stays missing this runs on every retry).
    """
    devices = list_input_devices()
    missing = device_id is not None and not any(d.id == device_id for d in devices)
    if missing and portaudio.rescan(min_interval=RESCAN_INTERVAL_S):
        devices = list_input_devices()
    if not devices:
        raise AudioError("No microphone or other input device was found; connect one and try again.")
    for wanted in (device_id, None):
        for device in devices:
            if (wanted is not None and device.id == wanted) or (wanted is None and device.is_default):
                return device
    return devices[0]


def _default_input_index(sd, host_apis) -> int:
    """PortAudio's default input, or the default host API's when the global default is unset (-1)."""
    index = sd.default.device[0]
    if isinstance(index, int) and index >= 0:
        return index
    try:
        return int(host_apis[sd.default.hostapi]["default_input_device"])
    except (IndexError, KeyError, TypeError, sd.PortAudioError):
        return -1
