"""Sentences the dashboard builds from structured rows, in the page's language (strings in i18n.json).

Why here and not in the analytics: the analytics give English sentences for the CLI next to the
figures behind them; a page in Chinese (or a short English page) is written from those figures,
so no English sentence is ever parsed or shown untranslated on a Chinese page.
"""

from __future__ import annotations

import re

from hardtech.presentation.labels import Labels


def _pct(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def screening_reasons(t, L: Labels, r: dict) -> list[str]:
    """One applicant's reasons from its row (field, typology, TRL, R&D, patents, STAR, what is missing)."""
    out = []
    if r.get("top_field"):
        out.append(t("sr_field").format(field=L.field(r["top_field"]), p=f"{r.get('field_probability') or 0:.2f}"))
    else:
        out.append(t("sr_field_none"))
    if r.get("typology"):
        out.append(t("sr_typology").format(typology=L.typology(r["typology"]), p=f"{r.get('hard_core_or_deep') or 0:.2f}"))
    else:
        out.append(t("sr_typology_none"))
    if r.get("trl") is not None:
        out.append(t("sr_trl").format(trl=r["trl"]))
    if r.get("rd_intensity") is not None:
        out.append(t("sr_rd").format(v=_pct(r["rd_intensity"])))
    if r.get("invention_patents") is not None:
        out.append(t("sr_patents").format(n=f"{r['invention_patents']:,.0f}"))
    verdict = r.get("star_verdict")
    if L.has("verdict", verdict):
        out.append(t("sr_star").format(verdict=L.verdict(verdict)))
    else:
        out.append(t("sr_star_none"))
    missing = [t("miss_" + m) if t("miss_" + m) != "miss_" + m else m for m in r.get("missing") or []]
    if missing:
        out.append(t("sr_missing").format(items=L.join(missing)))
    if r.get("score") is None:
        out.append(t("sr_unscored"))
    return out


_NOT_SUMMED = re.compile(r"(\d+) (range|undisclosed|no currency|no FX rate)")


def flow_note(t, note: str | None) -> str:
    """analytics.flows' note ("not summed: 3 undisclosed; converted at …") in the page's language."""
    if not note:
        return ""
    parts = [t("why_" + why.replace(" ", "_")).format(n=n) for n, why in _NOT_SUMMED.findall(note)]
    out = [t("flows_not_summed").format(parts=", ".join(parts))] if parts else []
    if "converted at" in note:
        out.append(t("flows_converted"))
    return "; ".join(out)


def hardness_parts(t, L: Labels, parts: list[dict]) -> list[dict]:
    """The score's parts with their indicator, criterion and missing-data text in the page's language.

    "No data" is about the store ("the store has no revenue for the year"), never a claim about the company.
    """
    out = []
    for p in parts:
        q = dict(p)
        q["label"] = L("indicator", p.get("indicator"), p.get("label") or p.get("indicator"))
        q["criterion"] = L("criterion", p.get("criterion_id"), p.get("criterion") or "")
        q["missing_text"] = (t("missing_needs").format(needs=L("indicator_needs", p.get("indicator")))
                             if p.get("missing") and L.has("indicator_needs", p.get("indicator")) else "")
        out.append(q)
    return out


def star_details(L: Labels, details: list[dict], version: str | None, carve_outs=()) -> list[dict]:
    """Each STAR indicator and exception: its name, what was measured against what it needs, passed or not."""
    from hardtech.presentation.star_text import detail

    out = []
    for d in details:
        item = d.get("id") or d.get("name")
        out.append({"kind": L("star_kind", d.get("kind")), "name": L("star_item", item, d.get("name")),
                    "number": d.get("number"), "passed": d.get("passed"),
                    "detail": detail(L, {"item": item, "value": d.get("value"), "inputs": d.get("inputs"),
                                         "passed": d.get("passed"),
                                         "proxy": d.get("proxy"), "carve_outs": list(carve_outs)}, version)})
    return out
