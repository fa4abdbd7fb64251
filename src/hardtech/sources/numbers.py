"""Numbers as people in every locale write them, read one way or refused with the reason.

`1.234,5` is 1234.5 in Germany and nonsense in the US; reading it as 1.2345 is the silent
misread this module exists to prevent. An import reads numbers in one notation, its `decimal`
option: `point` (the default: `1,234.5`) or `comma` (`1.234,5`). A number that only makes sense
in the other notation is refused, naming the option that reads it. Accepted in both notations:
plain digits, an exponent (`1.5e9`, `1,5e9` with a comma), thousands grouped in threes by a space,
a no-break or thin space or an apostrophe (`1 234 567`, `1'234'567`), and by the other mark
(`,` with a decimal point, `.` with a decimal comma); with a decimal point also the Indian
grouping (`12,34,567.5`). Full-width digits are read as digits.

Special values are refused, never stored as empty: `NaN` (leave the cell empty when a figure is
missing), `inf`/`Infinity`, and numbers beyond the range of a double (`1e309`).
"""

from __future__ import annotations

import math
import re
import unicodedata

from hardtech.errors import ParseError

DECIMALS = ("point", "comma")
NAN_TEXT = frozenset({"nan", "+nan", "-nan", "nan%"})
INF_TEXT = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity", "∞", "+∞", "-∞", "#num!",
                      "#div/0!"})

_EXP = r"(?:[eE][-+]?[0-9]+)?"
_GROUP = r"[ '’]"  # separators that group thousands in either notation (after NFKC: no-break spaces are spaces)
_GRAMMAR = {
    "point": re.compile(
        rf"[-+]?(?:[0-9]+(?:\.[0-9]*)?{_EXP}|\.[0-9]+{_EXP}"
        rf"|[0-9]{{1,3}}(?P<g>,|{_GROUP})[0-9]{{3}}(?:(?P=g)[0-9]{{3}})*(?:\.[0-9]+)?"
        rf"|[0-9]{{1,2}}(?:,[0-9]{{2}})+,[0-9]{{3}}(?:\.[0-9]+)?)"),
    "comma": re.compile(
        rf"[-+]?(?:[0-9]+(?:,[0-9]*)?{_EXP}|,[0-9]+{_EXP}"
        rf"|[0-9]{{1,3}}(?P<g>\.|{_GROUP})[0-9]{{3}}(?:(?P=g)[0-9]{{3}})*(?:,[0-9]+)?)"),
}
_OTHER = {"point": "comma", "comma": "point"}
_EXAMPLE = {"point": "1,234.5", "comma": "1.234,5"}
NUMBER_TOKEN = re.compile(r"[0-9]+(?:[.,' ’][0-9]+)*")


def normalise_text(text: str) -> str:
    """Full-width digits and punctuation become ASCII, no-break and thin spaces become spaces, odd minus
    signs become '-'."""
    s = unicodedata.normalize("NFKC", text)
    return s.replace("−", "-").replace("‐", "-").replace("﹣", "-").strip()


def check_decimal(decimal: str | None) -> str:
    decimal = decimal or "point"
    if decimal not in DECIMALS:
        raise ParseError(f"decimal must be 'point' (1,234.5) or 'comma' (1.234,5), not {decimal!r}", decimal)
    return decimal


def special_reason(text: str) -> str | None:
    """Why a NaN or infinity text is not a figure, or None when it is neither."""
    low = text.strip().lower()
    if low in NAN_TEXT:
        return f"{text.strip()!r} (not a number) is not a figure; leave the cell empty when the figure is missing"
    if low in INF_TEXT:
        return f"{text.strip()!r} is infinite, not a figure"
    return None


def _plain(s: str, decimal: str) -> str | None:
    """`s` in Python's notation when it is a number in `decimal` notation, else None."""
    m = _GRAMMAR[decimal].fullmatch(s)
    if not m:
        return None
    sep = m.group("g")
    if sep:
        s = s.replace(sep, "")
    elif decimal == "point":
        s = s.replace(",", "")  # the Indian grouping
    return s.replace(",", ".") if decimal == "comma" else s


def _refuse(text: str, decimal: str) -> ParseError:
    other = _OTHER[decimal]
    s = normalise_text(text)
    if _plain(s, other) is not None:
        return ParseError(
            f"{text!r} is written with a decimal {other} ({_EXAMPLE[other]}) but this import reads decimal "
            f"{decimal}s ({_EXAMPLE[decimal]}); import with --decimal {other} (mapping option `decimal: {other}`) "
            "if the file uses that notation", text)
    return ParseError(f"{text!r} is not a number", text)


def to_python_notation(text: str, decimal: str = "point") -> str:
    """One number's text as Python reads it (`1.234,5` with decimal comma → `1234.5`); ParseError if the
    text is not a number in that notation, naming the other notation when it would read it."""
    s = normalise_text(text)
    plain = _plain(s, decimal)
    if plain is None:
        raise _refuse(text, decimal)
    return plain


def parse_number(text: str, decimal: str = "point") -> float:
    """A finite number from its text; ParseError with the reason otherwise."""
    why = special_reason(text)
    if why:
        raise ParseError(why, text)
    value = float(to_python_notation(text, decimal))
    if not math.isfinite(value):
        raise ParseError(f"{text.strip()!r} is too large: beyond the largest number a figure can hold (about 1.8e308)",
                         text)
    return value


def rewrite_numbers(text: str, decimal: str = "point") -> str:
    """Every number inside a longer text (`1.234,5万元`, `€ 1 234,5 Mio.`) rewritten in Python's
    notation, so the money parser reads one notation only; ParseError for a number that is not valid in
    `decimal` notation. Text already in plain point notation comes back unchanged."""
    s = normalise_text(text)

    def one(m: re.Match) -> str:
        token = m.group()
        if token.endswith(" "):  # pragma: no cover - the token pattern never ends on a separator
            token = token.rstrip()
        plain = _plain(token, decimal)
        if plain is None:
            raise _refuse(token, decimal)
        return plain

    return NUMBER_TOKEN.sub(one, s)
