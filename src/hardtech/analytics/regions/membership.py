"""Who is where: organisations resolved to regions, with their fields and figures (the regional measures' input).

Why one membership table: the location quotients, the Herfindahl index, the scorecards and the clusters all
count the same resolved organisations; resolving places once (per distinct place) keeps them consistent
and fast. What does not resolve is kept for `unresolved()`, never dropped.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from hardtech.analytics.taxonomy import FIELD_IDS, load_taxonomy
from hardtech.analytics.figures import latest
from hardtech.analytics.verdicts import latest_verdicts
from hardtech.errors import ParseError, SourceError, UsageError

from hardtech.analytics.region_places import LEVELS, _index

# ------------------------------------------------------------------------------- rules


@functools.lru_cache(maxsize=4)
def load_rules(path: str | None = None) -> dict[str, Any]:
    """The ecosystem rules (default: the packaged TOML); a malformed file is a SourceError."""
    p = Path(path) if path else Path(str(resources.files("hardtech.data") / "rules" / "ecosystem_factors.toml"))
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
        for key in ("level", "country", "field_source", "measure"):
            if key not in doc["defaults"]:
                raise KeyError(f"defaults.{key}")
        list(doc["counting"]["firm_kinds"]), float(doc["counting"]["industry_min_weight"])
        for name, f in doc["factors"].items():
            if not f.get("user_table") and not f.get("inputs"):
                raise ValueError(f"factors.{name} needs inputs or user_table = true")
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SourceError(f"ecosystem rules {p} are malformed or unreadable: {exc}") from None
    return doc


# ------------------------------------------------------------------------------- inputs


def _get(src, name: str) -> ir.Table | None:
    if hasattr(src, "table") and not isinstance(src, Mapping):
        return src.table(name)
    if isinstance(src, Mapping):
        t = src.get(name)
        if t is None or isinstance(t, ir.Table):
            return t
        return ibis.memtable(t)
    raise UsageError("regional analytics take a Store or a mapping of tables ('organizations' at least)")


def _rows(t: ir.Table | None, cols: tuple[str, ...]) -> list[dict]:
    if t is None:
        return []
    have = [c for c in cols if c in t.columns]
    if not have:
        return [{c: None for c in cols} for _ in range(t.count().execute())]
    d = t.select(*have).to_pyarrow().to_pydict()  # column-wise: far cheaper than a dict per row from Arrow
    n = len(d[have[0]])
    columns = [d[c] if c in d else [None] * n for c in cols]
    return [dict(zip(cols, vals)) for vals in zip(*columns)]


def _matches(tax, codes: list[str]) -> list:
    """Concordance matches of the codes a taxonomy knows; an unknown scheme maps to no field."""
    out = []
    for code in codes:
        try:
            out.extend(tax.map_codes([code]))
        except (UsageError, ParseError):
            pass  # a scheme or code the concordances do not cover: no field, not an error
    return out


def _latest(src, column: str) -> dict[str, tuple[float, str | None]]:
    """org_id → (latest year's figure, its currency), picked by the one rule of `analytics.figures`."""
    f = _get(src, "financials")
    if f is None or column not in f.columns:
        return {}
    t = latest(f, column).to_pyarrow()
    ccy = t.column(f"{column}_ccy") if f"{column}_ccy" in t.column_names else t.column("currency")
    return {o: (float(v), c) for o, v, c in zip(t.column("org_id").to_pylist(), t.column(column).to_pylist(),
                                                 ccy.to_pylist())}


def _column(t: pa.Table, name: str) -> pa.Array:
    col = t.column(name).combine_chunks() if name in t.column_names else pa.nulls(t.num_rows, pa.string())
    return col


def _codes(arr: pa.Array) -> tuple[np.ndarray, list]:
    """Dictionary codes (-1 for null) and the distinct values, so Python runs once per distinct value."""
    enc = pc.dictionary_encode(arr)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()
    idx = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return idx, enc.dictionary.to_pylist()


class _Members:
    """Organisations of one country resolved to regions of one level, with their field.

    A million organisations share a few thousand (country, province, city) values, so places are
    resolved once per distinct value and everything else stays columnar; the per-row dicts that
    `regions_table`, `clusters` and `unresolved` walk are built only when they ask for them.
    """

    _COLS = ("org_id", "kind", "name_en", "name_zh", "country", "province", "city", "industry_codes")

    def __init__(self, src, level: str, country: str, field_source: str, rules: dict):
        if level not in LEVELS:
            raise UsageError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
        self.src, self.level, self.country, self.rules = src, level, country.upper(), rules
        self.ix = _index(_get(src, "regions"))
        orgs = self._load(_get(src, "organizations"))
        ci, cv = _codes(_column(orgs, "country"))
        pi, pv = _codes(_column(orgs, "province")) if level == "province" else (np.full(orgs.num_rows, -1, np.int64), [])
        yi, yv = _codes(_column(orgs, "city"))
        ny, np_ = len(yv) + 1, len(pv) + 1
        combo = ((ci + 1) * np_ + (pi + 1)) * ny + (yi + 1)
        uniq, inv = np.unique(combo, return_inverse=True)
        rids, keep_u = [], np.zeros(len(uniq), bool)
        for j, k in enumerate(uniq.tolist()):
            y, rest = k % ny - 1, k // ny
            p, c = rest % np_ - 1, rest // np_ - 1
            o = {"country": cv[c] if c >= 0 else None, "province": pv[p] if p >= 0 else None,
                 "city": yv[y] if y >= 0 else None}
            r = self._place(o)
            ctry = (o.get("country") or (r or {}).get("country") or "").upper()
            keep_u[j] = ctry == self.country
            rids.append(r["region_id"] if r else None)
        keep = keep_u[inv.ravel()] if len(uniq) else np.zeros(0, bool)
        t = orgs.filter(pa.array(keep, pa.bool_()))
        rid_u = pa.array(rids, pa.string())
        region = rid_u.take(pa.array(inv.ravel()[keep], pa.int64())) if len(uniq) else pa.nulls(0, pa.string())
        self._t = t.append_column("region_id", region).append_column(
            "field", self._fields(src, t, field_source, rules))
        self.n_unresolved = region.null_count
        self._rows: list[dict] | None = None
        self._unresolved: list[dict] | None = None

    @classmethod
    def _load(cls, t: ir.Table | None) -> pa.Table:
        if t is None:
            return pa.table({c: pa.nulls(0, pa.string()) for c in cls._COLS})
        have = [c for c in cls._COLS if c in t.columns]
        if not have:
            n = t.count().execute()
            return pa.table({c: pa.nulls(n, pa.string()) for c in cls._COLS})
        d = t.select(*have).to_pyarrow()
        for c in cls._COLS:
            if c not in d.column_names:
                d = d.append_column(c, pa.nulls(d.num_rows, pa.list_(pa.string()) if c == "industry_codes"
                                                else pa.string()))
        return d.select(list(cls._COLS))

    @staticmethod
    def _fields(src, t: pa.Table, field_source: str, rules: dict) -> pa.Array:
        """One field per organisation (aligned with `t`), so shares over fields add up to one."""
        if field_source == "industry":
            tax, floor = load_taxonomy(), float(rules["counting"]["industry_min_weight"])
            seen: dict[tuple, str | None] = {}
            out = []
            for codes in t.column("industry_codes").to_pylist():
                key = tuple(codes or ())
                if key not in seen:
                    best = None
                    for m in _matches(tax, list(key)):
                        if best is None or (-m.weight, FIELD_IDS.index(m.field_id)) < (-best.weight, FIELD_IDS.index(best.field_id)):
                            best = m
                    seen[key] = best.field_id if best is not None and best.weight >= floor else None
                out.append(seen[key])
            return pa.array(out, pa.string())
        if field_source != "classification":
            raise UsageError(f"field_source must be 'classification' or 'industry', not {field_source!r}")
        c = _get(src, "classifications")
        if c is None or t.num_rows == 0:
            return pa.nulls(t.num_rows, pa.string())
        c = latest_verdicts(c.filter(c.top_field.notnull())).select("entity_id", "top_field").to_pyarrow()
        ids = c.column("entity_id").combine_chunks().cast(pa.string())
        org = t.column("org_id").combine_chunks().cast(pa.string())
        pos = pc.index_in(org, value_set=ids)
        return c.column("top_field").combine_chunks().cast(pa.string()).take(pos)

    def _place(self, o: dict) -> dict | None:
        if self.level == "city":
            return self.ix.up(self.ix.find(o.get("city") or "", "city"), "city")
        hit = self.ix.up(self.ix.find(o.get("province") or "", "province"), "province")
        return hit or self.ix.up(self.ix.find(o.get("city") or "", "city"), "province")

    @property
    def rows(self) -> list[dict]:
        if self._rows is None:
            d = self._t.select(["org_id", "name_en", "name_zh", "kind", "region_id", "field",
                                "industry_codes"]).to_pydict()
            self._rows = [{"org_id": oid, "name": en or zh, "kind": k, "region_id": rid, "field": f,
                           "industry_codes": codes or []}
                          for oid, en, zh, k, rid, f, codes in zip(d["org_id"], d["name_en"], d["name_zh"],
                                                                   d["kind"], d["region_id"], d["field"],
                                                                   d["industry_codes"])]
        return self._rows

    @property
    def unresolved(self) -> list[dict]:
        if self._unresolved is None:
            t = self._t.filter(pc.is_null(self._t.column("region_id")))
            d = t.select(["org_id", "name_en", "name_zh", "province", "city"]).to_pydict()
            out = []
            for oid, en, zh, prov, city in zip(d["org_id"], d["name_en"], d["name_zh"], d["province"], d["city"]):
                place = city if self.level == "city" else (prov or city)
                out.append({"org_id": oid, "name": en or zh, "place": place,
                            "reason": f"no {self.level} given" if not place else f"{place!r} not in regions"})
            self._unresolved = out
        return self._unresolved

    def firm_table(self) -> pa.Table:
        """The firms (kinds counted as firms; no kind = a company), in organisation order."""
        kinds = set(self.rules["counting"]["firm_kinds"])
        ki, kv = _codes(self._t.column("kind").combine_chunks())
        ok = np.array([(v or "company") in kinds for v in kv] + ["company" in kinds], bool)
        return self._t.filter(pa.array(ok[ki], pa.bool_()))

    def firms(self) -> list[dict]:
        kinds = set(self.rules["counting"]["firm_kinds"])
        return [r for r in self.rows if (r["kind"] or "company") in kinds]

    def name(self, region_id: str) -> tuple[str | None, str | None]:
        r = self.ix.by_id.get(region_id, {})
        return r.get("name_en"), r.get("name_zh")


def _members(src, level, country, field_source) -> _Members:
    rules = load_rules()
    return _Members(src, level or rules["defaults"]["level"], country or rules["defaults"]["country"],
                    field_source or rules["defaults"]["field_source"], rules)
