"""The `/asr` WebSocket server: a thin layer translating frames to the AudioProcessor API."""
