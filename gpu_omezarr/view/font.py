"""A 5x7 bitmap font for the few words a preview writes: scale bar lengths and units, plate
row and column names. Built in, so that a preview needs no font file or drawing library."""

from __future__ import annotations

import numpy as np

# Each glyph: seven rows of five pixels, top to bottom ("#" is ink).
_GLYPHS = {
    "0": ".###. #...# #..## #.#.# ##..# #...# .###.",
    "1": "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###.",
    "2": ".###. #...# ....# ...#. ..#.. .#... #####",
    "3": "##### ...#. ..#.. ...#. ....# #...# .###.",
    "4": "...#. ..##. .#.#. #..#. ##### ...#. ...#.",
    "5": "##### #.... ####. ....# ....# #...# .###.",
    "6": "..##. .#... #.... ####. #...# #...# .###.",
    "7": "##### ....# ...#. ..#.. .#... .#... .#...",
    "8": ".###. #...# #...# .###. #...# #...# .###.",
    "9": ".###. #...# #...# .#### ....# ...#. .##..",
    ".": "..... ..... ..... ..... ..... .##.. .##..",
    "-": "..... ..... ..... ##### ..... ..... .....",
    " ": "..... ..... ..... ..... ..... ..... .....",
    "A": ".###. #...# #...# ##### #...# #...# #...#",
    "B": "####. #...# #...# ####. #...# #...# ####.",
    "C": ".###. #...# #.... #.... #.... #...# .###.",
    "D": "###.. #..#. #...# #...# #...# #..#. ###..",
    "E": "##### #.... #.... ####. #.... #.... #####",
    "F": "##### #.... #.... ####. #.... #.... #....",
    "G": ".###. #...# #.... #.### #...# #...# .####",
    "H": "#...# #...# #...# ##### #...# #...# #...#",
    "I": ".###. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "J": "..### ...#. ...#. ...#. ...#. #..#. .##..",
    "K": "#...# #..#. #.#.. ##... #.#.. #..#. #...#",
    "L": "#.... #.... #.... #.... #.... #.... #####",
    "M": "#...# ##.## #.#.# #.#.# #...# #...# #...#",
    "N": "#...# #...# ##..# #.#.# #..## #...# #...#",
    "O": ".###. #...# #...# #...# #...# #...# .###.",
    "P": "####. #...# #...# ####. #.... #.... #....",
    "Q": ".###. #...# #...# #...# #.#.# #..#. .##.#",
    "R": "####. #...# #...# ####. #.#.. #..#. #...#",
    "S": ".#### #.... #.... .###. ....# ....# ####.",
    "T": "##### ..#.. ..#.. ..#.. ..#.. ..#.. ..#..",
    "U": "#...# #...# #...# #...# #...# #...# .###.",
    "V": "#...# #...# #...# #...# #...# .#.#. ..#..",
    "W": "#...# #...# #...# #.#.# #.#.# #.#.# .#.#.",
    "X": "#...# #...# .#.#. ..#.. .#.#. #...# #...#",
    "Y": "#...# #...# .#.#. ..#.. ..#.. ..#.. ..#..",
    "Z": "##### ....# ...#. ..#.. .#... #.... #####",
    # Lower case: the letters of the unit abbreviations (others fall back to upper case).
    "a": "..... ..... .###. ....# .#### #...# .####",
    "c": "..... ..... .###. #.... #.... #...# .###.",
    "d": "....# ....# .##.# #..## #...# #...# .####",
    "e": "..... ..... .###. #...# ##### #.... .###.",
    "f": "..##. .#..# .#... ###.. .#... .#... .#...",
    "h": "#.... #.... #.##. ##..# #...# #...# #...#",
    "i": "..#.. ..... .##.. ..#.. ..#.. ..#.. .###.",
    "k": "#.... #.... #..#. #.#.. ##... #.#.. #..#.",
    "l": ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###.",
    "m": "..... ..... ##.#. #.#.# #.#.# #...# #...#",
    "n": "..... ..... #.##. ##..# #...# #...# #...#",
    "o": "..... ..... .###. #...# #...# #...# .###.",
    "p": "..... ..... ####. #...# ####. #.... #....",
    "r": "..... ..... #.##. ##..# #.... #.... #....",
    "s": "..... ..... .###. #.... .###. ....# ####.",
    "t": ".#... .#... ###.. .#... .#... .#..# ..##.",
    "u": "..... ..... #...# #...# #...# #..## .##.#",
    "y": "..... ..... #...# #...# .#### ....# .###.",
    "z": "..... ..... ##### ...#. ..#.. .#... #####",
    "µ": "..... ..... #...# #...# #..## ###.# #....",
}
HEIGHT = 7
ADVANCE = 6  # glyph width and one pixel of space


def _bitmap(rows: str) -> np.ndarray:
    return np.array([[c == "#" for c in row] for row in rows.split()], dtype=bool)


_BITMAPS = {char: _bitmap(rows) for char, rows in _GLYPHS.items()}


def text_mask(text: str, scale: int = 1) -> np.ndarray:
    """The ink of ``text`` as a boolean array (``7 * scale`` rows); unknown characters are
    drawn as their upper case, else as a space."""
    mask = np.zeros((HEIGHT, max(ADVANCE * len(text) - 1, 0)), dtype=bool)
    for i, char in enumerate(text):
        glyph = _BITMAPS.get(char, _BITMAPS.get(char.upper(), _BITMAPS[" "]))
        mask[:, i * ADVANCE : i * ADVANCE + 5] = glyph
    return mask.repeat(scale, axis=0).repeat(scale, axis=1)


def draw_text(
    rgb: np.ndarray, text: str, top: int, left: int, scale: int = 1, color: int = 255
) -> None:
    """Write ``text`` on ``rgb`` (uint8, h x w x 3) from ``(top, left)``, in ``color`` grey
    with a black shadow one pixel down and right so that it reads on any background; what
    falls outside the picture is cut."""
    mask = text_mask(text, scale)
    for dy, dx, value in ((1, 1, 0), (0, 0, color)):
        _paint(rgb, mask, top + dy, left + dx, value)


def _paint(rgb: np.ndarray, mask: np.ndarray, top: int, left: int, value: int) -> None:
    h, w = rgb.shape[:2]
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + mask.shape[0], h), min(left + mask.shape[1], w)
    if y0 >= y1 or x0 >= x1:
        return
    part = mask[y0 - top : y1 - top, x0 - left : x1 - left]
    rgb[y0:y1, x0:x1][part] = value
