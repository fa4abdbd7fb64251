"""Cell values that are safe to open in a spreadsheet or print on a terminal.

Shared by every writer of CSV and Excel, by the importer (which refuses control characters) and
by the CLI (which never writes one raw to a terminal). One list of forbidden characters:
C0 and C1 control characters (NUL, ESC of ANSI escape sequences, …) and the Unicode
bidirectional controls that reorder text on screen (U+202E RIGHT-TO-LEFT OVERRIDE, …). Tab,
line feed and carriage return are ordinary in prose and are allowed there only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

_FORBIDDEN = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
FORBIDDEN_RE = re.compile(f"[{_FORBIDDEN}]")
FORBIDDEN_OR_BREAK_RE = re.compile(f"[{_FORBIDDEN}\t\n\r]")
# The same classes for DuckDB's RE2 (used by the importer on every text cell of a suspect file).
FORBIDDEN_SQL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x{9f}\x{61c}\x{200e}\x{200f}\x{202a}-\x{202e}\x{2066}-\x{2069}]"
FORBIDDEN_OR_BREAK_SQL = FORBIDDEN_SQL[:-1] + r"\t\n\r]"
# The same again as UTF-8 bytes: a file with none of these needs no per-cell check at all.
_FORBIDDEN_ASCII = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_KEEP_ALL_BUT_FORBIDDEN = bytes(b for b in range(256) if b not in _FORBIDDEN_ASCII)


def neutralise_formula(value: Any) -> Any:
    """Spreadsheet formula injection: a text cell starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def char_name(ch: str) -> str:
    """`U+001B ESCAPE`, `U+202E RIGHT-TO-LEFT OVERRIDE`: how a forbidden character is named in a reason."""
    name = unicodedata.name(ch, "") or {"\x00": "NUL", "\x1b": "ESCAPE", "\t": "TAB", "\n": "LINE FEED",
                                          "\r": "CARRIAGE RETURN", "\x7f": "DELETE"}.get(ch, "CONTROL CHARACTER")
    return f"U+{ord(ch):04X} {name}"


def forbidden_char(text: str, allow_breaks: bool) -> tuple[int, str] | None:
    """(0-based position, character) of the first character a cell may not hold, or None."""
    m = (FORBIDDEN_RE if allow_breaks else FORBIDDEN_OR_BREAK_RE).search(text)
    return (m.start(), m.group()) if m else None


def bytes_may_hold_forbidden(chunk: bytes) -> bool:
    """True when UTF-8 bytes might contain a forbidden character. Runs at memory speed: an ASCII chunk needs
    one `translate`; otherwise the lead bytes of the forbidden multi-byte characters (C2 for C1 controls,
    D8 9C for U+061C, E2 80/81 for the bidi controls) are found with numpy and their next bytes compared.
    The last two bytes are not judged (give them again at the start of the next chunk)."""
    if chunk.translate(None, _KEEP_ALL_BUT_FORBIDDEN):
        return True
    if chunk.isascii():
        return False
    import numpy as np

    a = np.frombuffer(chunk, dtype=np.uint8)
    lead = np.flatnonzero((a == 0xC2) | (a == 0xD8) | (a == 0xE2))
    lead = lead[lead + 2 < len(a)]  # a sequence cut by the chunk's end is judged with the next chunk
    if not len(lead):
        return False
    x, y, z = a[lead], a[lead + 1], a[lead + 2]
    c1 = (x == 0xC2) & (y >= 0x80) & (y <= 0x9F)
    alm = (x == 0xD8) & (y == 0x9C)
    bidi = (x == 0xE2) & (((y == 0x80) & ((z == 0x8E) | (z == 0x8F) | ((z >= 0xAA) & (z <= 0xAE))))
                          | ((y == 0x81) & (z >= 0xA6) & (z <= 0xA9)))
    return bool((c1 | alm | bidi).any())


def terminal_safe(value: Any) -> Any:
    """Text for a terminal: every forbidden character shown as a visible escape (`\\x1b`, `\\u202e`),
    so no ANSI sequence or bidi override from the data can reach the screen."""
    if not isinstance(value, str) or not FORBIDDEN_RE.search(value):
        return value
    return FORBIDDEN_RE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), value)
