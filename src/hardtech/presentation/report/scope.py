"""`--scope field:F|region:R|year:Y`: parsed and checked against the taxonomy and the store's regions.

Several values of one kind widen the scope (field:ai field:biotech = either field); different
kinds narrow it (field:ai region:西安 = AI organisations in Xi'an). A value we do not know is a
UsageError naming what is accepted, never an empty report that looks like a finding.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hardtech.errors import UsageError

KINDS = ("field", "region", "year")


@dataclass(frozen=True)
class Scope:
    fields: tuple[str, ...] = ()
    regions: tuple[dict, ...] = field(default=())  # resolved places: region_id, name_en, name_zh, level, province
    years: tuple[int, ...] = ()
    raw: tuple[str, ...] = ()

    @property
    def year(self) -> int | None:
        """The reference year: the latest one asked for."""
        return max(self.years) if self.years else None

    def label(self) -> str:
        return ", ".join(self.raw) if self.raw else ""


def parse_scopes(scopes, regions_source=None) -> Scope:
    """Parse `kind:value` strings; `regions_source` (a Store) adds the store's regions to the place list."""
    from hardtech.services.report_data import scope_place as resolve_place
    from hardtech.services.taxonomy import load_taxonomy

    field_ids = list(load_taxonomy().fields)
    fields, regions, years, raw = [], [], [], []
    for text in scopes or ():
        kind, sep, value = str(text).partition(":")
        kind, value = kind.strip().lower(), value.strip()
        if not sep or not value or kind not in KINDS:
            raise UsageError(f"unknown scope {text!r}; use field:F (one of {', '.join(field_ids)}), "
                             "region:R (a city or province, in English or Chinese, e.g. region:西安) or year:Y")
        if kind == "field":
            if value.lower() not in field_ids:
                raise UsageError(f"unknown field {value!r} in scope {text!r}; fields: {', '.join(field_ids)}")
            fields.append(value.lower())
        elif kind == "region":
            place = resolve_place(value, regions_source)
            if place is None or place.get("level") not in ("city", "province"):
                raise UsageError(f"unknown region {value!r} in scope {text!r}; give a city or province in English "
                                 "or Chinese (e.g. region:西安, region:Hangzhou, region:Shaanxi)")
            regions.append(place)
        else:
            if not (value.isdigit() and len(value) == 4 and 1900 <= int(value) <= 2100):
                raise UsageError(f"year {value!r} in scope {text!r} is not a four-digit year such as 2018")
            years.append(int(value))
        raw.append(f"{kind}:{value}")
    return Scope(tuple(dict.fromkeys(fields)), tuple({r["region_id"]: r for r in regions}.values()),
                 tuple(sorted(set(years))), tuple(raw))
