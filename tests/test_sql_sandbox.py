"""`hardtech sql` is sandboxed and every `--where` is one bound boolean expression (issue 13, item 3).

The attacks are the ones the issue reproduced: `COPY … TO` and `EXPORT DATABASE` writing anywhere,
`read_csv('/etc/passwd')` reading any file, `INSTALL httpfs` reaching for the network, and
`score --where "false; DELETE FROM rejects"` running a second statement on a read-write connection.
"""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from hardtech.presentation.cli.app import app

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def loaded(tmp_path):
    """Three organisations and one rejected financials row (so `rejects` has something to lose)."""
    db = tmp_path / "s.duckdb"
    o = tmp_path / "o.csv"
    o.write_text("org_id,name_en,kind,country,city,description_en\n"
                 "a,Alpha,company,CN,Xi'an,Makes gallium nitride RF chips\n"
                 "b,Beta,company,CN,Hangzhou,Food delivery app\n"
                 "c,Gamma,company,US,Boston,Designs lidar sensors for autonomous driving\n", encoding="utf-8")
    assert invoke("import", "organizations", o, "--db", db).exit_code == 0
    f = tmp_path / "f.csv"
    f.write_text("org_id,fiscal_year,currency,rd_expense,revenue\na,2019,CNY,-3,10\na,2020,CNY,5,50\n"
                 "c,2020,USD,7,70\n", encoding="utf-8")
    assert invoke("import", "financials", f, "--db", db).exit_code == 1  # line 2 rejected
    return db


def rejects(db) -> int:
    res = invoke("sql", "SELECT count(*) AS n FROM rejects", "--db", db, "-f", "json")
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)[0]["n"]


# --------------------------------------------------------------------------- hardtech sql


@pytest.mark.parametrize("query", [
    "COPY (SELECT * FROM api_tokens) TO '{dir}/leak.csv'",
    "EXPORT DATABASE '{dir}/export'",
    "SELECT * FROM read_csv('{dir}/outside.csv')",
    "SELECT * FROM read_text('{dir}/outside.csv')",
    "SELECT * FROM glob('{dir}/*')",
    "ATTACH '{dir}/other.duckdb' AS other",
])
def test_sql_reads_and_writes_no_file_by_default(loaded, tmp_path, query):
    outside = tmp_path / "outside.csv"
    outside.write_text("secret\nhunter2\n", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    res = invoke("sql", query.format(dir=tmp_path), "--db", loaded, "-f", "json")
    assert res.exit_code == 2, res.output
    assert "hunter2" not in res.output and "Traceback" not in res.output
    assert "--allow-files" in res.output  # the one line says what to do
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written


@pytest.mark.parametrize("query", ["INSTALL httpfs", "LOAD httpfs", "INSTALL httpfs FROM 'http://127.0.0.1:9'",
                                   "SET enable_external_access = true", "SET memory_limit = '1GB'",
                                   "RESET enable_external_access", "CREATE SECRET s (TYPE s3)",
                                   "SELECT 1; DELETE FROM rejects"])
def test_sql_installs_nothing_and_changes_no_setting(loaded, query):
    for extra in ((), ("--allow-files",)):
        res = invoke("sql", query, "--db", loaded, *extra)
        assert res.exit_code == 2, (extra, res.output)
        assert "Traceback" not in res.output
    assert rejects(loaded) == 1


def test_allow_files_opts_in_to_file_functions(loaded, tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_text("word\nhello\n", encoding="utf-8")
    res = invoke("sql", f"SELECT word FROM read_csv('{outside}')", "--db", loaded, "--allow-files", "-f", "json")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout) == [{"word": "hello"}]
    res = invoke("sql", f"COPY (SELECT org_id FROM organizations ORDER BY 1) TO '{tmp_path}/ids.csv'", "--db", loaded,
                 "--allow-files")
    assert res.exit_code == 0, res.output
    assert (tmp_path / "ids.csv").read_text().split() == ["org_id", "a", "b", "c"]
    res = invoke("sql", "DELETE FROM rejects", "--db", loaded, "--allow-files")
    assert res.exit_code == 2 and "read-only" in res.output.lower()  # files, yes; the store, never


def test_sql_still_answers_queries(loaded):
    for q in ("SELECT org_id FROM organizations ORDER BY 1", "FROM organizations SELECT org_id ORDER BY 1",
              "WITH x AS (SELECT org_id FROM organizations) SELECT * FROM x ORDER BY 1"):
        res = invoke("sql", q, "--db", loaded, "-f", "json")
        assert res.exit_code == 0, res.output
        assert [r["org_id"] for r in json.loads(res.stdout)] == ["a", "b", "c"]
    res = invoke("sql", "DESCRIBE organizations", "--db", loaded, "-f", "json")
    assert res.exit_code == 0 and any(r["column_name"] == "org_id" for r in json.loads(res.stdout))


# --------------------------------------------------------------------------- --where


INJECTIONS = ["false; DELETE FROM rejects", "false); DELETE FROM rejects; SELECT (1",
              "true) UNION SELECT org_id FROM api_tokens WHERE (true", "1), (2", "",
              "o.org_id IN (SELECT content FROM read_text('/etc/hostname'))"]


@pytest.mark.parametrize("where", INJECTIONS)
def test_score_where_is_one_expression(loaded, where):
    res = invoke("score", "--where", where, "--db", loaded, "-f", "json")
    assert res.exit_code == 2, res.output
    assert "--where" in res.output and "Traceback" not in res.output
    assert rejects(loaded) == 1


@pytest.mark.parametrize("where", INJECTIONS)
def test_classify_where_is_one_expression(loaded, where):
    res = invoke("classify", "--where", where, "--db", loaded, "-f", "json")
    assert res.exit_code == 2, res.output
    assert "--where" in res.output and "Traceback" not in res.output
    assert rejects(loaded) == 1


def test_where_still_selects(loaded):
    res = invoke("score", "--where", "o.country = 'CN' -- a trailing comment", "--db", loaded, "-f", "json")
    assert res.exit_code == 0, res.output
    assert {r["org_id"] for r in json.loads(res.stdout)} <= {"a", "b"}
    res = invoke("score", "--where", "o.country = 'US'", "--db", loaded, "-f", "json")
    assert {r["org_id"] for r in json.loads(res.stdout)} == {"c"}
    res = invoke("classify", "--where", "o.city = 'Xi''an' OR f.revenue > 60", "--db", loaded, "-f", "json",
                 "--no-save")
    assert res.exit_code == 0, res.output
    assert sorted(r["entity_id"] for r in json.loads(res.stdout)) == ["a", "c"]
    res = invoke("classify", "--table", "patents", "--where", "publication_number LIKE 'CN%'", "--db", loaded,
                 "-f", "json", "--no-save")
    # the filter is accepted and runs; the store has no patents, so nothing to show (exit 3, docs/cli.md)
    assert res.exit_code == 3 and res.stdout.strip() == "[]" and "no patents" in res.stderr, res.output
    res = invoke("score", "--where", "o.nope = 1", "--db", loaded)
    assert res.exit_code == 2 and "--where" in res.output and "nope" in res.output
