"""The check behind "Chinese pages carry no English but names and codes" (issue 15), for the tests.

A page's visible text is every text node outside <script>/<style>/<code> (and outside elements
marked `lang="en"`, which quote a source's own English text such as a description the store has
only in English), the `placeholder`/`title`/`aria-label` attributes, and the words a dashboard chart
shows (its JSON spec: titles, axis titles and the category values it draws). Latin-letter runs in
that text ("no data", "Leads: Beijing", "photonics_chips") are English unless they are

- a name: an organisation's, a place's, an investor's or a source's, as the store holds it (a run is
  allowed when it is one of the Latin runs of such a name, so "Alphabet" of "Alphabet（谷歌母公司）"), or
- a code: a currency or country code, an abbreviation listed in CODES, a version, a table name, a
  command line in backticks, a file path.

The list of codes is here, in one place, so a reviewer sees what the test lets through.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

# abbreviations and product names a Chinese analyst reads as they are (each one is a code, not a word)
CODES = {
    "hardtech", "EUR", "USD", "CNY", "RMB", "HKD", "JPY", "GBP", "KRW", "CHF", "TWD", "SEK", "DKK", "INR",
    "LQ", "HHI", "TRL", "CAGR", "UTC", "CSV", "Excel", "API", "PDF", "HTML", "AI", "IPC", "CPC", "GICS",
    "ISIC", "NACE", "JRC", "OECD", "MOE", "STAR", "Authorization", "JSON", "NYSE", "SEC",
    "Form D", "Crunchbase", "Parquet",  # a data set, a database and a file format by name
}
# tables, columns and mapping names that appear in "import … into table X" sentences
CODE_PATTERNS = [
    re.compile(r"^[A-Z]{2,3}$"),                       # ISO country and currency codes
    re.compile(r"^v?\d[\w.\-]*$"),                     # versions, numbers
    re.compile(r"^(Pre-)?([A-F]\+?|IPO)$"),             # funding-round stages as Chinese VC writes them (Pre-A轮, C轮)
    re.compile(r"^[a-z0-9_]+\.(toml|csv|json|yaml|md|duckdb|pdf|html|xlsx|parquet)$"),  # file names
]

_RUN = re.compile(r"[A-Za-z][\w&'’.\-]*(?:[ ][\w&(][\w&'’.\-)]*)*", re.ASCII)
_BACKTICKS = re.compile(r"`[^`]*`|[\w.\-]+/[\w./\-]+", re.ASCII)
_SKIP_TAGS = {"script", "style", "code", "kbd", "samp"}


def latin_runs(text: str) -> list[str]:
    """Maximal runs of Latin words in `text` (words joined by single spaces), trailing dots trimmed."""
    out = []
    for m in _RUN.finditer(_BACKTICKS.sub(" ", text)):
        run = m.group(0).strip(" .-'’()")
        if run and re.search(r"[A-Za-z]", run):
            out.append(run)
    return out


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, skipped)
        self.texts: list[str] = []
        self.json: list[str] = []
        self._json_open = False

    def _skipped(self) -> bool:
        return any(s for _t, s in self.stack)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        skip = tag in _SKIP_TAGS or a.get("lang", "").startswith("en") or a.get("translate") == "no"
        if tag == "script" and a.get("type") == "application/json":
            self._json_open = True
        if tag not in ("br", "img", "input", "meta", "link", "hr", "wbr", "source", "col"):
            self.stack.append((tag, skip))
        if not self._skipped() and not skip:
            for k in ("placeholder", "title", "aria-label", "alt"):
                if a.get(k):
                    self.texts.append(a[k])

    def handle_endtag(self, tag):
        if tag == "script":
            self._json_open = False
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self._json_open:
            self.json.append(data)
        elif not self._skipped() and data.strip():
            self.texts.append(data)


def _spec_strings(spec: dict) -> list[str]:
    """What a Vega-Lite chart writes on the page: its title, axis/legend titles and the categories it draws."""
    out = []
    if isinstance(spec.get("title"), str):
        out.append(spec["title"])
    cats = set()
    for layer in [spec] + list(spec.get("layer") or []):
        for ch in (layer.get("encoding") or {}).values():
            if isinstance(ch, dict):
                if isinstance(ch.get("title"), str):
                    out.append(ch["title"])
                if ch.get("type") in ("nominal", "ordinal") and ch.get("field"):
                    cats.add(ch["field"])
                if ch.get("field") and "title" not in ch and ch.get("type") == "quantitative":
                    out.append(ch["field"])  # the axis shows the field name when there is no title
    for row in (spec.get("data") or {}).get("values") or []:
        out += [str(row[c]) for c in cats if row.get(c) is not None]
    return out


def visible_text(html: str) -> list[str]:
    p = _Text()
    p.feed(html)
    texts = list(p.texts)
    for blob in p.json:
        try:
            texts += _spec_strings(json.loads(blob))
        except (ValueError, AttributeError):
            continue
    return texts


def name_runs(db: Path | str) -> set[str]:
    """The Latin runs of every name in the store: organisations, places, investors, sources."""
    from hardtech.store.connection import Store
    from hardtech.schema import TABLES

    runs: set[str] = set(TABLES)
    with Store(db, read_only=True) as s:
        q = ["SELECT name_en FROM organizations", "SELECT name_zh FROM organizations",
             "SELECT DISTINCT city FROM organizations", "SELECT DISTINCT province FROM organizations",
             # a place as written; some bundled US rows hold a state here ("GEORGIA", "VIRGINIA[2]"): a data
             # defect of the S&P 500 / NYSE mappings, not a missing translation (reported, not hidden by a code)
             "SELECT DISTINCT country FROM organizations",
             "SELECT website FROM organizations",
             "SELECT unnest(aliases) FROM organizations", "SELECT name_en FROM regions",
             "SELECT name FROM investors", "SELECT DISTINCT source_name FROM organizations",
             "SELECT DISTINCT source_name FROM financials", "SELECT DISTINCT source_name FROM funding_rounds",
             "SELECT DISTINCT source_name FROM patents", "SELECT DISTINCT source_name FROM investors",
             "SELECT DISTINCT source_name FROM regions", "SELECT DISTINCT model_version FROM classifications",
             "SELECT DISTINCT weights_version FROM scores", "SELECT DISTINCT name FROM watchlists"]
        for sql in q:
            try:
                rows = s.con.execute(sql).fetchall()
            except Exception:  # noqa: BLE001 - a column an older store lacks
                continue
            for (v,) in rows:
                if v:
                    runs.update(latin_runs(str(v)))
                    runs.add(str(v).strip())
    return runs


def is_code(run: str) -> bool:
    if run in CODES:
        return True
    words = run.split()
    return all(w in CODES or any(p.match(w) for p in CODE_PATTERNS) for w in words)


def english(html: str, names: set[str], extra: set[str] = frozenset()) -> list[tuple[str, str]]:
    """(run, the text it stands in) for every Latin run that is neither a name nor a code."""
    bad = []
    for text in visible_text(html):
        for run in latin_runs(text):
            if run in names or run in extra or is_code(run):
                continue
            bad.append((run, text.strip()[:160]))
    return bad
