"""Source identifiers of an organisation as entity resolution compares them.

An organisation carries identifiers in three places: its own id when a source minted it
(`jrc:410`, `cn:000063`, `moe:4111010001`, `us:MMM`), its listing (`exchange` + `ticker` →
`ticker:CN:000063`, the market deciding uniqueness: NYSE and NASDAQ are one US market), and the
`identifiers` column (`cik:320193`, `lei:…`). All of them become `scheme:value` strings in one
normal form, so that the same CIK written `0000320193` and `320193` agrees. Which schemes exist,
which are unique per organisation and which id survives a merge is data
(`data/resolve/identifiers.toml`).

Kept in `sources/` (a rule for reading what sources write) so the store's resolution steps use it
without importing upward.
"""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class IdRules:
    version: str
    markets: dict[str, str]
    strip_zeros: frozenset[str]
    prefixes: dict[str, dict]
    unique: frozenset[str]
    weak: frozenset[str]
    priority: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def load_id_rules() -> IdRules:
    path = resources.files("hardtech.data") / "resolve" / "identifiers.toml"
    with open(str(path), "rb") as f:
        d = tomllib.load(f)
    return IdRules(
        version=str(d["version"]),
        markets={k.upper(): v for k, v in d["markets"].items()},
        strip_zeros=frozenset(d.get("strip_leading_zeros", [])),
        prefixes=dict(d["id_prefixes"]),
        unique=frozenset(d["unique_schemes"]),
        weak=frozenset(d["weak_schemes"]),
        priority=tuple(d["canonical_priority"]),
    )


def ticker_id(market: str, ticker: str) -> str | None:
    rules = load_id_rules()
    t = str(ticker).strip().upper()
    if not t:
        return None
    if market in rules.strip_zeros and t.isdigit():
        t = t.lstrip("0") or "0"
    return f"ticker:{market}:{t}"


def normalise_identifier(value: str) -> str | None:
    """`CIK:0000320193` → `cik:320193`; `lei:abc…` → `lei:ABC…`; anything else `scheme:value` trimmed."""
    if value is None:
        return None
    s = str(value).strip()
    if ":" not in s:
        return None
    scheme, v = s.split(":", 1)
    scheme, v = scheme.strip().lower(), v.strip()
    if not scheme or not v:
        return None
    if scheme == "cik":
        v = v.lstrip("0") or "0"
        if not v.isdigit():
            return None
    elif scheme in ("lei", "isin", "uscc"):
        v = v.upper().replace(" ", "")
    return f"{scheme}:{v}"


def org_identifiers(org_id: str, exchange: str | None = None, ticker: str | None = None,
                    identifiers: list[str] | tuple[str, ...] | None = None) -> list[str]:
    """Every identifier of one organisation row, normalised and de-duplicated (order kept)."""
    rules = load_id_rules()
    out: list[str] = []
    if org_id and ":" in org_id:
        prefix, value = org_id.split(":", 1)
        spec = rules.prefixes.get(prefix.lower())
        if spec is not None and value:
            out.append(normalise_identifier(f"{spec['scheme']}:{value}") or f"{spec['scheme']}:{value}")
            if spec.get("market"):
                out.append(ticker_id(spec["market"], value))
    if ticker and str(ticker).strip():
        ex = (exchange or "").strip().upper()
        market = rules.markets.get(ex) if ex else None
        if market:
            out.append(ticker_id(market, ticker))
    for v in identifiers or ():
        n = normalise_identifier(v)
        out.append(n)
        # an id a source minted that names a listing (`us:META` of a record merged into this one) is that ticker too
        spec = rules.prefixes.get(n.split(":", 1)[0]) if n else None
        if spec is not None and spec.get("market"):
            out.append(ticker_id(spec["market"], n.split(":", 1)[1]))
    seen, result = set(), []
    for x in out:
        if x and x not in seen:
            seen.add(x)
            result.append(x)
    return result


def scheme(identifier: str) -> str:
    return identifier.split(":", 1)[0]


def unique_schemes(ids: list[str]) -> list[str]:
    """The schemes among `ids` whose values name one organisation each (two different values of one
    of them = two organisations)."""
    rules = load_id_rules()
    return sorted({scheme(i) for i in ids if scheme(i) in rules.unique})


def canonical_rank(org_id: str) -> tuple[int, str]:
    """Sort key: the org id that survives a merge comes first (see `canonical_priority`)."""
    rules = load_id_rules()
    prefix = org_id.split(":", 1)[0] if ":" in org_id else ""
    try:
        rank = rules.priority.index(prefix)
    except ValueError:
        rank = len(rules.priority)
    return rank, org_id
