"""Place names as sources write them, reduced to one comparable key, and the shipped region list.

Two rules every layer needs and none should write again: `place_key` (`Xi'an`, `XIAN`, `xi-an`,
`西安市` and `西安` compare equal) and `region_reference` (countries, Chinese provinces and cities,
bilingual, with aliases, from `hardtech/data/demo/regions.csv`). They sit in `sources/`, below the
store, because entity resolution (`store/resolve/`) strips place names from organisation names with
them, and the regional analyses (`analytics/region_places.py`) resolve places with them.
"""

from __future__ import annotations

import csv
import functools
import re
import unicodedata
from importlib import resources

_DROP = re.compile(r"[\s'’‘`\-_.·]")
_SUFFIX = ("市", "省", "区")


def place_key(text: str) -> str:
    """A place name reduced to what identifies it: case, width, spaces, apostrophes, dashes and a trailing
    市/省/区 dropped, so `Xi'an`, `XIAN`, `xi-an` and `西安市` / `西安` compare equal."""
    s = _DROP.sub("", unicodedata.normalize("NFKC", str(text)).strip().lower())
    while len(s) > 2 and s.endswith(_SUFFIX):
        s = s[:-1]
    return s


@functools.lru_cache(maxsize=1)
def region_reference() -> tuple[dict, ...]:
    """The shipped region list (countries, Chinese provinces, cities; bilingual, with aliases)."""
    path = resources.files("hardtech.data") / "demo" / "regions.csv"
    with open(str(path), encoding="utf-8", newline="") as f:
        return tuple(
            {**r, "aliases": [a for a in (r.get("aliases") or "").split("|") if a.strip()]} for r in csv.DictReader(f)
        )
