"""What every part of finding, preparing and downloading a model reports in.

Its own module so the bundled models, the downloads and the resolver below them all can use it
without importing one another.
"""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes total) while a model is being prepared or downloaded."""


class ModelError(Exception):
    """A model could not be found or loaded; ``str()`` is one sentence saying what to do."""
