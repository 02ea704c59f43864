"""The overlay's laid-out text: spans of one role, paragraphs of spans, wrapped rows.

Its own module so that the overlay and its scrollback (which keeps rows of the history)
share these types without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    text: str
    role: str  # "label" | "text" | "live" | "translation" | "translation_live"
    color: str = ""  # label colour; "" = the text colour


Paragraph = tuple[Span, ...]


@dataclass(frozen=True)
class Row:
    spans: tuple[Span, ...]

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans).rstrip()
