"""IT桔子-style venture-database exports: companies with their rounds and investors, in Chinese.

The export puts a company on one row and its earlier rounds on the rows beneath it, with the
company columns empty there. Amounts are written as people write them (`630万人民币`,
`数千万美元`, `未透露人民币`) and parsed by the importer, ranges kept as ranges; investors are
comma-joined, `-` meaning none named; `融资时间` `-` means the company has no known round.
`地点` is `省-市` (`陕西-西安`), `直辖市-区` (`北京-海淀区`: the city is Beijing) or
`大洲-国家` for companies abroad (`北美洲-美国`).

Not imported: `行业`/`子行业` (IT桔子's own categories: no concordance to our fields yet),
`运营状态`, `融资总额` and `估值` (company totals, not rounds).
"""

from __future__ import annotations

from hardtech.sources.connectors.base import (Extraction, FileSpec, Output, connector, extract_of, has_cjk,
                                              read_rows)

FILES = (FileSpec("export", ("*.csv", "*.xlsx", "*.tsv"),
                  required=("公司名称", "融资时间", "轮次", "融资金额", "投资方"),
                  optional=("工商名称", "公司网址", "成立时间", "地点", "运营状态", "行业", "子行业", "融资总额", "估值",
                            "公司简介"),
                  renamed={"公司": "公司名称", "投资机构": "投资方", "金额": "融资金额", "日期": "融资时间"},
                  layout="IT桔子 company/rounds export (公司名称 … 公司简介)"),)
ORGS = Output("organizations", ("org_id", "kind", "name_en", "name_zh", "aliases", "country", "province", "city",
                                "founded", "description_zh", "website", "ownership"), patch=True)
INVESTORS = Output("investors", ("name_en", "name_zh"), distinct=True)
ROUNDS = Output("funding_rounds", ("org_id", "org_name", "date", "stage", "amount", "investors"))
MUNICIPALITIES = {"北京", "上海", "天津", "重庆"}
CONTINENTS = {"亚洲", "欧洲", "北美洲", "南美洲", "非洲", "大洋洲"}
NONE = {"", "-", "—", "无"}


@connector(
    name="itjuzi", title="IT桔子 venture database export",
    description="Chinese venture-database export (IT桔子 style): companies, each with its funding rounds and "
                "the investors named in them; amounts such as 630万人民币 or 数千万美元 kept as written and parsed.",
    licence="Proprietary (IT桔子 terms of use): your own export; never bundled with hardtech",
    source_url="https://www.itjuzi.com",
    files=FILES, outputs=(ORGS, INVESTORS, ROUNDS),
    unresolved="A round listed above any company row has no company: it is rejected with its line and the "
               "reason (org_id missing), never dropped silently.",
    point_at="the exported CSV (UTF-8 or GBK) or Excel file",
)
def itjuzi(src) -> Extraction:
    out = Extraction()
    table, path, extra = read_rows(src, "export")
    out.ignored_columns = [c for c in ("行业", "子行业", "运营状态", "融资总额", "估值") if c in table.column_names] + extra
    recs = table.to_pylist()
    orgs, org_lines, rounds, round_lines, investors, inv_lines = [], [], [], [], [], []
    seen_inv: set[str] = set()
    company = None
    without = 0
    for r in recs:
        line = r["__line"]
        name = _clean(r.get("公司名称"))
        if name:
            company = name
            orgs.append(_org(r, name))
            org_lines.append(line)
        when = _clean(r.get("融资时间"))
        if when is None:
            if name:
                without += 1
            continue
        names = [n.strip() for n in (r.get("投资方") or "").split(",") if _clean(n)]
        rounds.append({"org_id": f"itjuzi:{company}" if company else None, "org_name": company, "date": when,
                       "stage": _clean(r.get("轮次")), "amount": _clean(r.get("融资金额")), "investors": names})
        round_lines.append(line)
        for n in names:
            if n not in seen_inv:
                seen_inv.add(n)
                investors.append({"name_zh": n} if has_cjk(n) else {"name_en": n})
                inv_lines.append(line)
    out.extracts += [extract_of(ORGS, orgs, org_lines, path), extract_of(INVESTORS, investors, inv_lines, path),
                     extract_of(ROUNDS, rounds, round_lines, path)]
    if without:
        out.notes.append(f"{without} companies have no known round (融资时间 `-`): imported as organisations only")
    return out


def _clean(v) -> str | None:
    v = None if v is None else str(v).strip()
    return None if v is None or v in NONE else v


def _org(r: dict, name: str) -> dict:
    place = [p.strip() for p in (r.get("地点") or "").split("-") if p.strip()]
    country, province, city = None, None, None  # no 地点: the country is not guessed
    if place and place[0] in CONTINENTS:
        country = place[1] if len(place) > 1 else None  # 美国 → US by the importer's country names
    elif place:
        country, province = "CN", place[0]
        city = place[0] if place[0] in MUNICIPALITIES else (place[1] if len(place) > 1 else None)
    legal = _clean(r.get("工商名称"))
    return {"org_id": f"itjuzi:{name}", "kind": "startup",
            "name_zh": name if has_cjk(name) else None, "name_en": None if has_cjk(name) else name,
            "aliases": [legal] if legal and legal != name else None, "country": country, "province": province,
            "city": city, "founded": _clean(r.get("成立时间")), "description_zh": _clean(r.get("公司简介")),
            "website": _clean(r.get("公司网址")), "ownership": "private"}
