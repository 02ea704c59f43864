"""The session record: exporters now, autosave with the desktop app."""
