"""The pages' colours pass WCAG AA: text ≥ 4.5:1 against its background, bars ≥ 3:1."""

import re
from pathlib import Path

import pytest

import orca.server

CSS = (Path(orca.server.__file__).parent / "static" / "orca.css").read_text()
VARS = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", CSS))
WHITE = "#ffffff"


def luminance(hex_colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour."""
    out = []
    for i in (1, 3, 5):
        c = int(hex_colour[i : i + 2], 16) / 255
        out.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = out
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.mark.parametrize(
    ("fg", "bg", "minimum"),
    [
        ("fg", "bg", 4.5),
        ("muted", "bg", 4.5),
        ("muted", "soft", 4.5),
        ("link", "bg", 4.5),
        ("ok", "bg", 4.5),
        ("error", "bg", 4.5),
        ("warn", "bg", 4.5),
        ("fg", "hl", 4.5),
        ("fg", "sel", 4.5),
        ("error", "hl", 4.5),
        ("bar", "bg", 3.0),
        ("bar-error", "bg", 3.0),
        ("bar", "sel", 3.0),
    ],
)
def test_colour_pairs_meet_aa(fg: str, bg: str, minimum: float) -> None:
    """Each text colour on each background it is drawn on (from orca.css's variables)."""
    assert contrast(VARS[fg], VARS[bg]) >= minimum, (fg, bg, contrast(VARS[fg], VARS[bg]))


def test_white_text_on_the_header_and_crash_badge() -> None:
    """The header (#10243e) and the crashed badge carry white text."""
    assert contrast(WHITE, "#10243e") >= 4.5
    assert contrast(WHITE, VARS["crash-bg"]) >= 4.5


def test_the_formula_matches_the_known_extremes() -> None:
    """Black on white is 21:1, a colour on itself 1:1."""
    assert round(contrast("#000000", WHITE), 1) == 21.0 and contrast(WHITE, WHITE) == 1.0
