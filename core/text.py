"""Text that came from outside, made safe to store, search and show (a small pure function)."""

from __future__ import annotations

import re

# C0/C1 controls but tab and line breaks; bidirectional embeddings, overrides and isolates;
# zero-width characters and the BOM; lone UTF-16 surrogates (not valid text, cannot be encoded).
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]"
)


def strip_invisible(text: str) -> str:
    """``text`` without control, bidi-control, zero-width and lone-surrogate characters.

    They change nothing a reader sees but can change what the desk searches with, spoof the
    order of what an expert reads, or make a line impossible to encode (``\\ud800``).
    """
    return _INVISIBLE.sub("", text)
