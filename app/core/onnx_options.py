"""Session options for Sayline's small ONNX models (Silero VAD, the speaker models).

Each runs on one thread so that the recogniser keeps the other cores, and ONNX Runtime's own
log lines stay out of the user's terminal.
"""

from __future__ import annotations

import onnxruntime


def one_thread_options(log_severity: int) -> onnxruntime.SessionOptions:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = log_severity
    return options
