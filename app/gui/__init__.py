"""The desktop app: windows, the caption overlay, settings and the bridge to the engine thread.

Only the GUI thread touches these widgets; the engine reaches them through the bridge's signals,
so nothing here ever waits on transcription.
"""
