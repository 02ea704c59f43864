"""The one exception type of the audio layer."""

from __future__ import annotations


class AudioError(Exception):
    """Audio in is not possible right now; ``str()`` is one sentence for the user saying what to do.

    Callers show it as is, so every raise site words it for a person, not a developer.
    """
