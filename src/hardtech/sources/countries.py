"""Countries as files write them (`US`, `USA`, `United States`, `中国`, `Minnesota`) → ISO 3166-1 alpha-2.

One lookup for the importer: the 249 ISO countries (codes and English names from `iso3166.csv`)
plus our aliases and Chinese names (`countries.csv`). A value that is none of these is not
guessed: the importer rejects the row, naming the value.
"""

from __future__ import annotations

import functools

from hardtech.sources.reference import reference_rows


@functools.lru_cache(maxsize=1)
def iso_codes() -> frozenset[str]:
    """The ISO 3166-1 alpha-2 codes."""
    return frozenset(r["alpha2"] for r in reference_rows("iso3166.csv"))


@functools.lru_cache(maxsize=1)
def country_aliases() -> tuple[tuple[str, str], ...]:
    """(lower-case name or code, alpha-2) for every spelling we accept; our aliases win over ISO names."""
    pairs: dict[str, str] = {}
    for r in reference_rows("countries.csv"):
        for name in [r["iso2"], r["name_en"], r["name_zh"], *[a for a in r["aliases"].split("|") if a]]:
            pairs.setdefault(name.strip().lower(), r["iso2"])
    for r in reference_rows("iso3166.csv"):
        for name in (r["alpha2"], r["alpha3"], r["name"], r["official_name"], r["common_name"]):
            if name:
                pairs.setdefault(name.strip().lower(), r["alpha2"])
    return tuple(pairs.items())
