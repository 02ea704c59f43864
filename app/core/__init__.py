"""The engine: models, streaming policy, VAD, decoding and the per-stream AudioProcessor.

Nothing here imports Qt or opens sockets; the GUI, the server and the CLI are clients.
"""
