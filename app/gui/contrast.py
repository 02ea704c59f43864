"""WCAG 2.1 contrast arithmetic: relative luminance, contrast ratio, and a colour seen through a box.

Pure Python (no Qt) so the themes and the overlay defaults can be checked against the numbers the
guideline states, in tests and in code, without a display: 4.5:1 for text (success criterion
1.4.3, level AA), 3:1 for the edges and indicators that identify a control (1.4.11, non-text
contrast). The formulas are the ones WCAG 2.1 defines (https://www.w3.org/TR/WCAG21/#dfn-relative-luminance).
"""

from __future__ import annotations

TEXT_MINIMUM = 4.5  # WCAG 2.1 SC 1.4.3: normal-size text, level AA
NON_TEXT_MINIMUM = 3.0  # WCAG 2.1 SC 1.4.11: borders and indicators that identify a control or its state

RGB = tuple[float, float, float]  # 0..1 per channel, sRGB


def parse(color: str) -> RGB:
    """``#rrggbb`` (or ``#rgb``) as 0..1 channels."""
    text = color.strip().lstrip("#")
    if len(text) == 3:
        text = "".join(char * 2 for char in text)
    if len(text) != 6:
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return (int(text[0:2], 16) / 255, int(text[2:4], 16) / 255, int(text[4:6], 16) / 255)


def _linear(channel: float) -> float:
    """sRGB channel to linear light, as WCAG 2.1 defines it (its 0.03928 threshold)."""
    return channel / 12.92 if channel <= 0.03928 else ((channel + 0.055) / 1.055) ** 2.4


def relative_luminance(color: str | RGB) -> float:
    """0 for black to 1 for white."""
    red, green, blue = parse(color) if isinstance(color, str) else color
    return 0.2126 * _linear(red) + 0.7152 * _linear(green) + 0.0722 * _linear(blue)


def contrast_ratio(first: str | RGB, second: str | RGB) -> float:
    """From 1 (no contrast) to 21 (black on white); the order of the two does not matter."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def composite(over: str | RGB, under: str | RGB, opacity: float) -> RGB:
    """``over`` painted at ``opacity`` on ``under``, blended per sRGB channel as Qt's painter does.

    What the eye sees of a translucent caption box: the box colour mixed with whatever is behind it.
    """
    top = parse(over) if isinstance(over, str) else over
    bottom = parse(under) if isinstance(under, str) else under
    return tuple(t * opacity + b * (1 - opacity) for t, b in zip(top, bottom, strict=True))  # type: ignore[return-value]


def to_hex(color: RGB) -> str:
    return "#" + "".join(f"{round(channel * 255):02x}" for channel in color)
