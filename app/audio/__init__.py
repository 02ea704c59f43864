"""Audio in: input devices, microphone and system-audio capture, resampling to 16 kHz mono.

No Qt here: the GUI, the CLI and tests drive ``AudioCapture`` from the engine's asyncio loop and feed
its blocks to ``AudioProcessor.process_audio`` (via ``app.core.decoding.float_to_pcm16``). Meeting mode
is simply two captures (a microphone and system audio) iterated on the same loop::

    capture = AudioCapture(CaptureSource("system"), on_state=report)  # report(state, message)
    capture.start()                           # AudioError: show str(exc) to the user
    async for block in capture.blocks():      # on the engine loop; ends after capture.stop()
        await processor.process_audio(float_to_pcm16(block))

``find_system_audio()`` says up front whether system audio can work here (or why not, as a sentence).
One application's sound: ``list_playing_apps()`` for the choices, then ``CaptureSource("app", app.key)``.
"""

from app.audio.app_capture import list_playing_apps
from app.audio.app_streams import PlayingApp
from app.audio.capture import AudioCapture, StateCallback
from app.audio.devices import InputDevice, list_input_devices
from app.audio.errors import AudioError
from app.audio.pulse import MonitorSource
from app.audio.resample import TARGET_RATE, StreamResampler
from app.audio.source import CaptureSource
from app.audio.system_audio import SystemAudioUnavailable, find_system_audio, list_monitor_sources

__all__ = [
    "TARGET_RATE",
    "AudioCapture",
    "AudioError",
    "CaptureSource",
    "InputDevice",
    "MonitorSource",
    "PlayingApp",
    "StateCallback",
    "StreamResampler",
    "SystemAudioUnavailable",
    "find_system_audio",
    "list_input_devices",
    "list_monitor_sources",
    "list_playing_apps",
]
