"""The one exception diarization raises: its message is shown to the user as is."""


class DiarizationError(Exception):
    """Diarization cannot run (missing torch or weights, a damaged checkpoint, a bad setting)."""
