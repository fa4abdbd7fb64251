"""The names of things in English and Chinese, for the white paper, the dashboard and the API alike.

Why one place: a field, a typology, an organisation kind, a STAR verdict or a place is named the
same way on every page and in both languages. Fields and typologies come from the taxonomy
(name_en/name_zh), places from the store's `regions` table (name_zh), everything else from
`data/i18n/labels.toml`. An id with no name is shown as it is (and the language test fails on it),
never silently dropped.
"""

from __future__ import annotations

import functools
import threading
import tomllib
from importlib import resources
from pathlib import Path

LANGS = ("en", "zh")


@functools.lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, dict[str, str]]]:
    """{lang: {section: {key: text}}}; both languages must have the same sections and keys."""
    doc = tomllib.loads((resources.files("hardtech.data") / "i18n" / "labels.toml").read_text("utf-8"))
    en, zh = doc["en"], doc["zh"]
    for sec in set(en) | set(zh):
        a, b = set(en.get(sec, {})), set(zh.get(sec, {}))
        if a != b:
            raise RuntimeError(f"data/i18n/labels.toml [{sec}]: keys only in en {sorted(a - b)}, "
                               f"only in zh {sorted(b - a)}")
    return {"en": en, "zh": zh}


def vocabulary_with_taxonomy(lang: str) -> dict[str, dict[str, str]]:
    """Every section of labels.toml in `lang`, plus `field` and `typology` from the taxonomy (the API's /labels)."""
    from hardtech.services.taxonomy import load_taxonomy

    lang = lang if lang in LANGS else "en"
    tax = load_taxonomy()
    out = {sec: dict(keys) for sec, keys in vocabulary()[lang].items()}
    out["field"] = {k: (f.name_zh if lang == "zh" else f.name_en) for k, f in tax.fields.items()}
    out["typology"] = {k: (t.name_zh if lang == "zh" else t.name_en) for k, t in tax.typology.items()}
    return out


class Labels:
    """Names in one language: `L("kind", "company")`, `L.field("ai")`, `L.place("Xi'an", places)`."""

    def __init__(self, lang: str):
        self.lang = lang if lang in LANGS else "en"
        self.v = vocabulary()[self.lang]

    def __call__(self, section: str, key, default: str | None = None) -> str:
        if key is None:
            return default if default is not None else ""
        return self.v.get(section, {}).get(str(key), default if default is not None else str(key))

    def has(self, section: str, key) -> bool:
        return str(key) in self.v.get(section, {})

    def field(self, field_id: str | None) -> str:
        from hardtech.services.taxonomy import load_taxonomy

        tax = load_taxonomy()
        if field_id in tax.fields:
            f = tax.fields[field_id]
            return f.name_zh if self.lang == "zh" else f.name_en
        if field_id in (None, "", "none"):
            return self("group", "none")
        return self("group", field_id)

    def typology(self, typ: str | None) -> str:
        from hardtech.services.taxonomy import load_taxonomy

        tax = load_taxonomy()
        if typ in tax.typology:
            t = tax.typology[typ]
            return t.name_zh if self.lang == "zh" else t.name_en
        return self("group", typ if typ not in (None, "") else "insufficient evidence")

    def kind(self, kind: str | None) -> str:
        return self("kind", kind if kind else "unknown", self("group", "unknown"))

    def verdict(self, verdict: str | None) -> str:
        return self("verdict", verdict) if verdict else self("group", "not evaluated")

    def place(self, name: str | None, places: dict[str, str] | None) -> str:
        """A city's or province's name in this language (the store's name_zh); unknown names stay as written."""
        if not name:
            return ""
        if self.lang != "zh" or not places:
            return name
        return places.get(name.strip().casefold(), name)

    def group(self, by: str, value, places: dict[str, str] | None = None) -> str:
        """One group of an aggregate (by field, typology, city, country, kind, STAR verdict, stage, sector)."""
        if value is None:
            return self("group", "unknown")
        if by == "field":
            return self.field(value)
        if by == "typology":
            return self.typology(value)
        if by == "kind":
            return self.kind(value)
        if by == "star":
            return self.verdict(value) if self.has("verdict", value) else self("group", value)
        if by in ("stage", "sector"):
            return self(by, value, self("group", value))
        if by in ("city", "region", "province"):
            return self("group", value) if self.has("group", value) else self.place(value, places)
        return self("group", value) if self.has("group", value) else str(value)

    def join(self, items) -> str:
        return ("、" if self.lang == "zh" else ", ").join(items)


# --------------------------------------------------------------------------- places of a store

_places_lock = threading.Lock()
_places: dict[tuple, dict[str, str]] = {}


def place_names(db) -> dict[str, str]:
    """casefolded English name or alias of every region → its Chinese name, once per store state.

    A city written `Xi'an`, `Xian` or `西安市` shows as 西安 on Chinese pages; a place the
    regions table does not know keeps its written name. `db`: a store's path, or an opened store (any engine).
    """
    from hardtech.services.opened import is_store, state_key
    from hardtech.services.report_data import chinese_place_names
    from hardtech.services.search import fingerprint

    key = state_key(db) if is_store(db) else fingerprint(db)
    with _places_lock:
        if key not in _places:
            out: dict[str, str] = {}
            rows = chinese_place_names(db)
            for en, zh, aliases in rows:
                for n in [en, zh, *(aliases or [])]:
                    if n:
                        out.setdefault(str(n).strip().casefold(), zh)
            _places.clear()
            _places[key] = out
        return _places[key]
