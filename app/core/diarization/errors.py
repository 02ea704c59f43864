"""The one exception diarization raises: its message is shown to the user as is."""

import pickle


class DiarizationError(Exception):
    """Diarization cannot run (a missing or damaged model file, missing torch, a bad setting)."""


# What torch.load and load_state_dict raise for a missing, truncated or foreign checkpoint.
CHECKPOINT_ERRORS = (OSError, RuntimeError, KeyError, TypeError, ValueError, EOFError, pickle.UnpicklingError)
