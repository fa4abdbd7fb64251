"""Place names: the one way a place as written (`西安市`, `Xi'an`, `Xian`, a street address) becomes a region.

Sources write places in many ways, so every analysis that compares places (the regional measures,
a ranking scoped to a city, the investor match's regions, the hardness score's institutions nearby)
compares them through `place_key` and resolves them through `place_resolver`, written once here
(`place_key` and the shipped region list live in `sources/places.py`, below the store, because entity
resolution strips place names too). The region list is data (`hardtech/data/demo/regions.csv`,
overlaid with the store's `regions`).
Resolution is Python, so it runs once per DISTINCT place string — a million organisations share a
few thousand — and the answers join back to the tables in the engine (`place_table`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from hardtech.sources.places import _DROP, place_key, region_reference

LEVELS = ("city", "province")
_LEVEL_PREF = {"city": 0, "district": 1, "province": 2, "country": 3}
_CJK = re.compile(r"[\u3400-\u9fff]")


def _region_rows(regions) -> list[dict]:
    """Demo regions overlaid with the user's (a Store, an Ibis/Arrow table or a list of dicts)."""
    rows = {r["region_id"]: dict(r) for r in region_reference()}
    if regions is None:
        return list(rows.values())
    if hasattr(regions, "table") and not isinstance(regions, Mapping):
        regions = regions.table("regions")
    if isinstance(regions, ir.Table):
        regions = regions.to_pyarrow()
    extra = regions.to_pylist() if isinstance(regions, pa.Table) else list(regions)
    for r in extra:
        if r.get("region_id"):
            base = rows.get(r["region_id"], {})
            rows[r["region_id"]] = {**base, **{k: v for k, v in r.items() if v not in (None, "")}}
    return list(rows.values())


@functools.lru_cache(maxsize=8192)
def _word_pattern(name: str) -> re.Pattern:
    """A Latin place name as a whole word; compiled once per process (an index is built per store, and the
    region list has about a thousand Latin names, more than `re`'s own cache keeps)."""
    return re.compile(rf"(?<![a-z]){re.escape(name)}(?![a-z])")


class _Index:
    """Normalised name → regions, built once per region list."""

    def __init__(self, rows: list[dict]):
        self.by_id = {r["region_id"]: r for r in rows}
        self.keys: dict[str, list[dict]] = {}
        for r in rows:
            names = [r.get("name_en"), r.get("name_zh"), r["region_id"], *(r.get("aliases") or [])]
            for n in names:
                if n and place_key(n):
                    bucket = self.keys.setdefault(place_key(n), [])
                    if r not in bucket:
                        bucket.append(r)
        self.cjk = sorted((k for k in self.keys if _CJK.search(k) and len(k) >= 2), key=len, reverse=True)
        self.latin = sorted((k for k in self.keys if not _CJK.search(k) and len(k) >= 3), key=len, reverse=True)
        # one compiled pattern per Latin name, and one answer per distinct text: a million organisations
        # share a few hundred city strings
        self._latin_re = [(k, _word_pattern(k)) for k in self.latin]
        self._found: dict[tuple[str, str | None], dict | None] = {}

    def up(self, r: dict | None, level: str) -> dict | None:
        """The enclosing region at `level` (the region itself when it already is at that level)."""
        seen = 0
        while r is not None and r.get("level") != level and seen < 5:
            r, seen = self.by_id.get(r.get("parent_id") or ""), seen + 1
        return r if r is not None and r.get("level") == level else None

    def find(self, text: str, level: str | None = None) -> dict | None:
        if not text or not str(text).strip():
            return None
        key = (str(text), level)
        if key not in self._found:
            self._found[key] = self._find(str(text), level)
        return self._found[key]

    def _find(self, text: str, level: str | None) -> dict | None:
        cands = self.keys.get(place_key(text))
        if not cands:
            cands = self._search(str(text))
        if not cands:
            return None
        pref = dict(_LEVEL_PREF)
        if level:
            pref[level] = -1
        return min(cands, key=lambda r: (pref.get(r.get("level"), 9), r["region_id"]))

    def _search(self, text: str) -> list[dict]:
        """Longest name found inside an address; of equal lengths the more specific level, then the first
        written (an address goes from province to street: `西安市…中山路` is Xi'an, not Zhongshan)."""
        raw = unicodedata.normalize("NFKC", text).lower()
        flat = _DROP.sub("", raw)
        words = re.sub(r"[’‘`']", "", raw)
        hits = [(k, flat.find(k)) for k in self.cjk if k in flat]
        hits += [(k, m.start()) for k, pat in self._latin_re if (m := pat.search(words))]
        if not hits:
            return []
        best = max(len(k) for k, _ in hits)
        found = [(_LEVEL_PREF.get(r.get("level"), 9), pos, r) for k, pos in hits if len(k) == best for r in self.keys[k]]
        top = min((lv, pos) for lv, pos, _ in found)
        return [r for lv, pos, r in found if (lv, pos) == top]


@functools.lru_cache(maxsize=1)
def _demo_index() -> _Index:
    return _Index(_region_rows(None))


def _index(regions) -> _Index:
    return _demo_index() if regions is None else _Index(_region_rows(regions))


def _describe(ix: _Index, r: dict) -> dict:
    prov = ix.up(r, "province")
    return {"region_id": r["region_id"], "name_en": r.get("name_en"), "name_zh": r.get("name_zh"),
            "level": r.get("level"), "province": prov.get("name_en") if prov else None,
            "country": r.get("country")}


def place_resolver(regions=None):
    """`resolve(text, level=None)` over one region list, its name index built once: for resolving many places."""
    ix = _index(regions)

    def resolve(text: str, level: str | None = None) -> dict | None:
        r = ix.find(text, level)
        return _describe(ix, r) if r else None

    return resolve


def resolve_place(text: str, regions=None, level: str | None = None) -> dict | None:
    """A place as written (`西安市`, `Xi'an`, `Xian`, `陕西省西安市雁塔区…`) → its region; None when unknown.

    `regions` adds the store's regions table (a Store, table or list of dicts) to the demo list;
    `level` breaks ties between names shared by several levels (Beijing the city and the province).
    """
    return place_resolver(regions)(text, level)




def names_of_place(text: str, regions=None, level: str | None = None) -> set[str]:
    """The place keys that name the same place as `text`: its own, and every name and alias of the region it
    resolves to (a city called `Xi'an` is also `Xian`, `西安` and `西安市`)."""
    keys = {place_key(text)} if text and place_key(text) else set()
    ix = _index(regions)
    r = ix.keys.get(place_key(text)) if text else None
    if r:
        pref = dict(_LEVEL_PREF)
        if level:
            pref[level] = -1
        hit = min(r, key=lambda x: (pref.get(x.get("level"), 9), x["region_id"]))
        if level is None or hit.get("level") == level:
            for n in (hit.get("name_en"), hit.get("name_zh"), hit["region_id"], *(hit.get("aliases") or [])):
                if n and place_key(n):
                    keys.add(place_key(n))
    return keys


def same_place(t: ir.Table, column: str, keys: set[str]) -> ir.BooleanValue:
    """A filter: rows of `t` whose `column` is one of the places `keys` (place keys), decided once per distinct value."""
    got = t.filter(t[column].notnull()).select(column).distinct().to_pyarrow().column(0).to_pylist()
    return t[column].isin([v for v in got if place_key(v) in keys] or [None]) & t[column].notnull()


def place_keys(t: ir.Table, column: str, name: str = "place_key") -> ir.Table:
    """A small table (`column` value → its place key) over the distinct values of `t[column]`, to join back."""
    got = t.filter(t[column].notnull()).select(column).distinct().to_pyarrow().column(0).to_pylist()
    return ibis.memtable(pa.table({f"_{name}_raw": pa.array(got, pa.string()),
                                   name: pa.array([place_key(v) for v in got], pa.string())}))
