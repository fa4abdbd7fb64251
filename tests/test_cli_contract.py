"""Every command keeps the CLI's contract (docs/cli.md, "What every command promises"), on an empty store
and on the demo store.

The commands are enumerated from the Typer app, so a new command is covered as soon as it exists:
it must have sample invocations in SAMPLES (or a reason in SKIP), or `test_every_command_is_walked`
fails. For each sample:

- the exit code is a documented one (0 with a result, 3 with nothing to show; 1 and 2 are for bad input,
  which these samples do not give);
- exit 0 prints a result on stdout; exit 3 prints nothing on stdout for people, `[]` for json, and one
  line on stderr that says why and what to do (a `hardtech …` command to run or an `--option` to change);
- no traceback, ever;
- tables for people show rounded numbers (no `79.61247103219334`), fit 100 columns, and (in Chinese)
  have a translated header for every column;
- json is a list of records; where it holds lists or objects, csv has no JSON blob in a cell (objects
  become columns, lists of objects rows).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

from hardtech.presentation import docs_gen
from hardtech.presentation.cli.app import app
from hardtech.presentation.cli.text import CliText

runner = CliRunner()
COMMANDS = docs_gen.cli_commands()

SKIP = {
    "serve": "runs a web server until stopped; its start-up errors and exit codes are tested in tests/test_api.py",
    "demo": "builds a whole store (minutes); tests/test_demo.py runs it and checks what it prints",
}

# Sample invocations per command: every mode a user meets. {applicants}, {labels}, {orgs} and {tmp} are
# files and folders the fixture makes. Marked (…, "heavy") ones run only as a table (they take half a minute).
SAMPLES: dict[str, list] = {
    "classify": [["--text", "Lidar sensors and chips for autonomous cars"], ["--limit", "3", "--no-save"],
                 ["--file", "{applicants}"], ["--text", "Lidar sensors and chips for autonomous cars", "--threshold",
                                              "0.99"],
                 ["--file", "{applicants}", "--threshold", "0.5", "--kind-column", "kind"],
                 ["--limit", "3", "--no-save", "--threshold", "0.6"]],
    "decade": [["huawei", "--from", "2015", "--to", "2018"]],
    "evaluate": [["--labels", "{labels}"]],
    "flows": [[], ["--shift"], ["--cagr"], ["--investors"]],
    "import": [["organizations", "{orgs}"]],
    "mappings": [[]],
    "match": [["evaluate"], ["startup", "pony-ai"], ["investor", "casstar"]],
    "rank": [["--year", "2018", "--top", "5"], ["--year", "2018", "--scope", "country:CN", "--by", "intensity",
                                                "--top", "5"], ["--year", "2018", "--by", "growth", "--top", "3"]],
    "regions": [[], ["compare", "西安", "杭州"], ["clusters"]],
    "rejects": [[]],
    "report": [(["--out", "{tmp}/report"], "heavy")],
    "score": [["huawei", "--explain"], ["huawei", "--no-save"], ["--where", "o.country = 'XX'", "--no-save"],
              ["--top", "5", "--no-save"]],
    "screen": [["{applicants}"]],
    "sources": [[], ["jrc_oecd"]],
    "sql": [["SELECT 1 AS x WHERE false"], ["SELECT count(*) AS n FROM organizations"]],
    "star": [["huawei"], (["--all"], "heavy")],
    "status": [[]],
    "synth": [["--orgs", "30", "--out", "{tmp}/synth"]],
    "export": [["--parquet", "{tmp}/export"]],
    "taxonomy": [[], ["map", "cpc:G06N3/08"]],
    "token": [["list"]],
    "check": [[]],
    "resolve": [["merges"], ["review"]],
}
LONG_FLOAT = re.compile(r"\d\.\d{6,}")
WIDTH = 100


def test_every_command_is_walked():
    missing = sorted(set(COMMANDS) - set(SAMPLES) - set(SKIP))
    assert not missing, f"commands without sample invocations in tests/test_cli_contract.py: {missing}"
    assert not set(SAMPLES) - set(COMMANDS), "samples for commands that no longer exist"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("contract-files")
    (d / "applicants.csv").write_text(
        "name,description,revenue_2023,rd_2023,city,kind\n"
        "Alpha Photonics,Silicon photonics chips for data centres,1.2亿元,3000万元,Xi'an,company\n"
        "Beta Foods,Online food delivery platform,15亿元,100万元,Hangzhou,startup\n", encoding="utf-8")
    (d / "labels.csv").write_text("text,fields,typology\nLidar sensors for autonomous vehicles,ai,hard_core\n"
                                  "Online grocery delivery app,none,model_innovation\n", encoding="utf-8")
    (d / "orgs.csv").write_text("org_id,name_en,kind,city\ncontract-a,Contract A,company,Xi'an\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def stores(tmp_path_factory, demo_base):
    from hardtech.store.connection import Store

    d = tmp_path_factory.mktemp("contract-stores")
    Store(d / "empty.duckdb").close()
    shutil.copy(demo_base, d / "demo.duckdb")
    return {"empty": d / "empty.duckdb", "demo": d / "demo.duckdb"}


def _args(sample, files, tmp):
    args, heavy = (sample if isinstance(sample, tuple) else (sample, None))
    subst = {"{applicants}": str(files / "applicants.csv"), "{labels}": str(files / "labels.csv"),
             "{orgs}": str(files / "orgs.csv")}
    out = [subst.get(a, a.replace("{tmp}", str(tmp))) for a in args]
    return out, heavy == "heavy"


def _check(cmd: list[str], res, fmt: str, problems: list[str]) -> None:
    where = f"`hardtech {' '.join(cmd)}` (-f {fmt}, exit {res.exit_code})"
    text = res.output
    if "Traceback" in text or res.exception and not isinstance(res.exception, SystemExit):
        problems.append(f"{where}: crashed: {res.exception!r}")
        return
    if res.exit_code not in (0, 3):
        problems.append(f"{where}: exit code {res.exit_code}: {res.stderr.strip()[:300]}")
        return
    if res.exit_code == 3:
        lines = [x for x in res.stderr.splitlines() if x.strip()]
        if len(lines) != 1:
            problems.append(f"{where}: nothing to show must be said in one line on stderr, got {lines!r}")
        elif not ("`hardtech " in lines[0] or re.search(r"--[a-z]", lines[0])):
            problems.append(f"{where}: says no data but not what to do: {lines[0]!r}")
        expected = {"table": "", "json": "[]"}.get(fmt)
        if expected is not None and res.stdout.strip() != expected:
            problems.append(f"{where}: stdout should be {expected!r} with nothing to show, got {res.stdout[:200]!r}")
        return
    if not res.stdout.strip():
        problems.append(f"{where}: exit 0 but nothing on stdout")
        return
    if fmt == "table":
        if LONG_FLOAT.search(res.stdout):
            problems.append(f"{where}: unrounded number for people: {LONG_FLOAT.search(res.stdout).group(0)}…")
        wide = [line for line in res.stdout.splitlines() if cell_len(line) > WIDTH]
        if wide:
            problems.append(f"{where}: {len(wide)} lines wider than {WIDTH} columns, e.g. {wide[0][:120]!r}")
    elif fmt == "json":
        data = json.loads(res.stdout)
        if not isinstance(data, list) or not data or not all(isinstance(r, dict) for r in data):
            problems.append(f"{where}: json is not a non-empty list of records")
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(res.stdout)))
        for row in rows[1:]:
            for cell in row:
                if cell[:1] in "{[":
                    try:
                        blob = json.loads(cell)
                    except ValueError:
                        continue
                    if isinstance(blob, (dict, list)):
                        problems.append(f"{where}: a JSON blob in a csv cell: {cell[:80]!r}")
                        return


def _nested(json_text: str) -> bool:
    try:
        rows = json.loads(json_text)
    except ValueError:
        return False
    return any(isinstance(v, (dict, list)) for r in rows if isinstance(r, dict) for v in r.values())


@pytest.mark.slow
@pytest.mark.parametrize("store_kind", ["empty", "demo"])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_command_keeps_the_contract(name, store_kind, stores, files, tmp_path, monkeypatch):
    db = tmp_path / "store.duckdb"
    shutil.copy(stores[store_kind], db)  # commands that write (import, score, classify) leave the shared copy alone
    missing_headers: set[str] = set()
    real_col = CliText.col

    user_columns = set((files / "applicants.csv").read_text(encoding="utf-8").splitlines()[0].split(","))
    user_columns |= {a for sample in SAMPLES[name] for a in (sample[0] if isinstance(sample, tuple) else sample)}

    def col(self, column):  # a column of the user's own file keeps the user's name
        head = real_col(self, column)
        if head == column and not self.has(f"col.{column}") and column not in user_columns:
            missing_headers.add(column)
        return head

    monkeypatch.setattr(CliText, "col", col)
    problems: list[str] = []
    # people read the demo in Chinese on a 100-column terminal; the empty store in English
    lang = "zh" if store_kind == "demo" else "en"
    for sample in SAMPLES[name]:
        args, heavy = _args(sample, files, tmp_path)
        cmd = [name, *args]
        for fmt in (("table",) if heavy else ("table", "json")):
            res = runner.invoke(app, [*cmd, "--db", str(db), "-f", fmt, "--lang", lang],
                                env={"COLUMNS": str(WIDTH), "HARDTECH_LANG": lang})
            _check(cmd, res, fmt, problems)
        if not heavy and res.exit_code == 0 and _nested(res.stdout):  # csv is checked where there is structure
            res = runner.invoke(app, [*cmd, "--db", str(db), "-f", "csv"])
            _check(cmd, res, "csv", problems)
    assert not problems, "\n".join(problems)
    assert not missing_headers, f"column headers without a translation in data/i18n/cli.toml: {sorted(missing_headers)}"
