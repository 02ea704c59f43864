"""Sayline: live, offline, speaker-tagged captions."""

__version__ = "0.1.0"
