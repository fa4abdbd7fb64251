"""PatentsView bulk tables: US granted patents with their CPC codes and assignee organisations.

PatentsView publishes one tab-separated table per zip (`g_patent.tsv.zip`, …). This reads the
ones a patent analysis needs, from a folder holding them (zipped or not):

- `g_patent` (required): number, type, grant date, title, kind, claims, withdrawn flag;
- `g_cpc_current`: the current CPC codes of each patent (`cpc_group`, e.g. `G06N3/08`), in order;
- `g_assignee_disambiguated`: assignees; the first one is the patent's applicant, and every
  organisation assignee becomes an organisation (`pv:<assignee_id>`, PatentsView's
  disambiguated id) — companies, universities, institutes and governments told apart by the
  assignee type and the name;
- `g_patent_abstract`: abstracts (older `g_patent` files carry `patent_abstract` themselves);
- `g_application`: filing dates.

A patent's number is written as the office, number and kind (`US11645356B2`), as elsewhere in
hardtech. Withdrawn patents are left out, counted in the notes. The tables are joined in
DuckDB straight from the files; the full CPC table has tens of millions of rows.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from hardtech.sources.connectors.base import Extract, Extraction, FileSpec, Output, check_layout, connector
from hardtech.sources.readers import LINE, file_sha256
from hardtech.sources.transform import lit

LAYOUT = "PatentsView granted-patent tables (g_*, 2022–)"
FILES = (
    FileSpec("patent", ("g_patent.tsv", "g_patent.tsv.zip"), required=("patent_id", "patent_type", "patent_date",
                                                                       "patent_title"),
             optional=("wipo_kind", "num_claims", "withdrawn", "filename", "patent_abstract"),
             renamed={"id": "patent_id", "type": "patent_type", "date": "patent_date", "title": "patent_title",
                      "kind": "wipo_kind"}, layout=LAYOUT),
    FileSpec("cpc", ("g_cpc_current.tsv", "g_cpc_current.tsv.zip"), required=("patent_id", "cpc_sequence", "cpc_group"),
             optional=("cpc_section", "cpc_class", "cpc_subclass", "cpc_type", "cpc_symbol_position"),
             renamed={"subgroup_id": "cpc_group", "sequence": "cpc_sequence"}, layout=LAYOUT, needed=False),
    FileSpec("assignee", ("g_assignee_disambiguated.tsv", "g_assignee_disambiguated.tsv.zip"),
             required=("patent_id", "assignee_sequence", "assignee_id", "disambig_assignee_organization",
                       "assignee_type"),
             optional=("disambig_assignee_individual_name_first", "disambig_assignee_individual_name_last",
                       "location_id"),
             renamed={"organization": "disambig_assignee_organization", "type": "assignee_type",
                      "sequence": "assignee_sequence"}, layout=LAYOUT, needed=False),
    FileSpec("abstract", ("g_patent_abstract.tsv", "g_patent_abstract.tsv.zip"), required=("patent_id", "patent_abstract"),
             layout=LAYOUT, needed=False),
    FileSpec("application", ("g_application.tsv", "g_application.tsv.zip"), required=("patent_id", "filing_date"),
             optional=("application_id", "patent_application_type", "series_code", "rule_47_flag"),
             layout=LAYOUT, needed=False),
)
ORGS = Output("organizations", ("org_id", "kind", "name_en", "country"), patch=True, distinct=True)
PATENTS = Output("patents", ("publication_number", "office", "applicant", "applicant_org_id", "filing_date",
                             "grant_date", "title", "abstract", "cpc_codes", "claims", "patent_type"))
UNIVERSITY = r"(?i)universit|college|\bschool of\b|institute of technology|polytechnic"
INSTITUTE = r"(?i)institut|fraunhofer|academy of sciences|laborator|research (center|centre|council|organi[sz]ation)|" \
            r"\bcnrs\b|max[- ]planck|\bcsir\b|national lab"


@connector(
    name="patentsview", title="PatentsView bulk tables",
    description="US granted patents from PatentsView's bulk tables: number, dates, title, abstract, claims, CPC "
                "codes and the first assignee, with every organisation assignee as an organisation.",
    licence="CC BY 4.0 (PatentsView, USPTO); cite PatentsView",
    source_url="https://patentsview.org/download/data-download-tables",
    files=FILES, outputs=(ORGS, PATENTS),
    unresolved="A patent whose first assignee is a person (or that has none) is kept with the applicant's name "
               "and no organisation; organisation assignees always resolve to `pv:<assignee_id>`.",
    point_at="a folder with g_patent.tsv(.zip) and any of g_cpc_current, g_assignee_disambiguated, "
             "g_patent_abstract, g_application",
)
def patentsview(src) -> Extraction:
    import duckdb

    out = Extraction()
    paths: dict[str, Path] = {}
    for spec in FILES:
        p = src.require(spec.key) if spec.needed else src.find(spec.key)
        if p is not None:
            extra = check_layout(spec, _header(p), p.name)
            out.ignored_columns += [f"{p.name}: {c}" for c in extra]
            paths[spec.key] = p
    con = duckdb.connect()
    try:
        con.execute("SET preserve_insertion_order = true")
        for key, p in paths.items():
            con.execute(f"CREATE TEMP TABLE {key} AS SELECT *, row_number() OVER () + 1 AS {LINE} FROM "
                        f"read_csv({lit(str(p))}, delim = '\\t', header = true, all_varchar = true, quote = '\"', "
                        f"escape = '\"')")
        out.extracts.append(_patents(con, paths, out))
        if "assignee" in paths:
            out.extracts.append(_orgs(con, paths["assignee"]))
    finally:
        con.close()
    return out


def _header(path: Path) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as f:
        return [h.strip().strip('"') for h in f.readline().rstrip("\r\n").split("\t")]


def _patents(con, paths: dict[str, Path], out: Extraction) -> Extract:
    cols = {r[0] for r in con.execute("DESCRIBE patent").fetchall()}
    joins, abstract = [], "NULL"
    if "patent_abstract" in cols:
        abstract = "p.patent_abstract"
    if "abstract" in paths:
        joins.append("LEFT JOIN abstract ab ON ab.patent_id = p.patent_id")
        abstract = f"coalesce(ab.patent_abstract, {abstract})"
    cpc = "CAST(NULL AS VARCHAR[])"
    if "cpc" in paths:
        joins.append("LEFT JOIN (SELECT patent_id, list(cpc_group ORDER BY try_cast(cpc_sequence AS INTEGER)) "
                     "FILTER (WHERE cpc_group IS NOT NULL) AS codes FROM cpc GROUP BY patent_id) c "
                     "ON c.patent_id = p.patent_id")
        cpc = "c.codes"
    applicant = org_ref = "NULL"
    if "assignee" in paths:
        joins.append("LEFT JOIN (SELECT * FROM assignee QUALIFY row_number() OVER (PARTITION BY patent_id "
                     "ORDER BY try_cast(assignee_sequence AS INTEGER)) = 1) a ON a.patent_id = p.patent_id")
        applicant = ("coalesce(a.disambig_assignee_organization, NULLIF(trim(concat_ws(' ', "
                     "a.disambig_assignee_individual_name_first, a.disambig_assignee_individual_name_last)), ''))"
                     if "disambig_assignee_individual_name_first" in _cols(con, "assignee")
                     else "a.disambig_assignee_organization")
        org_ref = "CASE WHEN a.disambig_assignee_organization IS NOT NULL THEN 'pv:' || a.assignee_id END"
    filing = "NULL"
    if "application" in paths:
        joins.append("LEFT JOIN (SELECT patent_id, min(filing_date) AS filing_date FROM application GROUP BY 1) ap "
                     "ON ap.patent_id = p.patent_id")
        filing = "ap.filing_date"
    kind = "coalesce(p.wipo_kind, '')" if "wipo_kind" in cols else "''"
    claims = "p.num_claims" if "num_claims" in cols else "NULL"
    withdrawn = "coalesce(lower(p.withdrawn), '0') IN ('1', 'true')" if "withdrawn" in cols else "FALSE"
    n_withdrawn = con.execute(f"SELECT count(*) FROM patent p WHERE {withdrawn}").fetchall()[0][0]
    if n_withdrawn:
        out.notes.append(f"{n_withdrawn} withdrawn patents left out (never in force)")
    t = con.sql(f"""
        SELECT 'US' || p.patent_id || {kind} AS publication_number, 'US' AS office, {applicant} AS applicant,
               {org_ref} AS applicant_org_id, {filing} AS filing_date, p.patent_date AS grant_date,
               p.patent_title AS title, {abstract} AS abstract, {cpc} AS cpc_codes, {claims} AS claims,
               CASE lower(p.patent_type) WHEN 'utility' THEN 'invention' WHEN 'design' THEN 'design'
                    ELSE 'unknown' END AS patent_type, p.{LINE} AS {LINE}
        FROM patent p {' '.join(joins)}
        WHERE NOT ({withdrawn})
        ORDER BY p.{LINE}""").to_arrow_table()
    return Extract(PATENTS, _text(t), paths["patent"], file_sha256(paths["patent"]))


def _cols(con, table: str) -> set[str]:
    return {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def _orgs(con, path: Path) -> Extract:
    t = con.sql(f"""
        SELECT 'pv:' || assignee_id AS org_id,
               CASE WHEN regexp_matches(disambig_assignee_organization, {lit(UNIVERSITY)}) THEN 'university'
                    WHEN regexp_matches(disambig_assignee_organization, {lit(INSTITUTE)}) THEN 'institute'
                    WHEN right(assignee_type, 1) IN ('6', '7', '8', '9') THEN 'government'
                    ELSE 'company' END AS kind,
               disambig_assignee_organization AS name_en,
               CASE WHEN right(assignee_type, 1) IN ('2', '6', '8', '9') THEN 'US' END AS country,
               {LINE}
        FROM assignee
        WHERE disambig_assignee_organization IS NOT NULL AND assignee_id IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY assignee_id ORDER BY {LINE}) = 1
        ORDER BY {LINE}""").to_arrow_table()
    return Extract(ORGS, _text(t), path, file_sha256(path))


def _text(t: pa.Table) -> pa.Table:
    cols = []
    for name in t.column_names:
        c = t.column(name)
        if name == LINE:
            cols.append(c.cast(pa.int64()))
        elif pa.types.is_list(c.type):
            cols.append(c.cast(pa.list_(pa.string())))
        else:
            cols.append(c.cast(pa.string()))
    return pa.table(cols, names=t.column_names)
