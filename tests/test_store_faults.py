"""Issue 13, item 2: a full disk, a corrupt or truncated store, odd SQL results give a message, not a traceback.

Each command runs as the user runs it (`python -m hardtech …` in a child process), so what is checked
is the exit code and the text a person sees.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from hardtech.store.connection import Store

ROOT = Path(__file__).resolve().parents[1]


def hardtech(*args, limit_bytes: int | None = None, timeout: int = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.environ.get("HARDTECH_SRC", str(ROOT / "src")), COLUMNS="200")

    def fsize_limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run([sys.executable, "-m", "hardtech", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=timeout, preexec_fn=fsize_limit if limit_bytes else None)


def filled_store(path: Path, rows: int = 100_000) -> Path:
    with Store(path) as s:
        s.con.execute("INSERT INTO organizations (org_id, name_en, source_name) "
                      f"SELECT 'o' || range, 'Organisation ' || range, 'test' FROM range({rows})")
    return path


def no_traceback(p: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in p.stderr and "Traceback" not in p.stdout, p.stderr[-2000:]


def test_check_passes_an_intact_store(tmp_path):
    p = hardtech("check", "--db", filled_store(tmp_path / "ok.duckdb"))
    assert p.returncode == 0, p.stderr
    assert "checks passed: the store is intact" in p.stderr and "100,000 rows" in p.stdout


def test_a_file_that_is_no_store_is_a_clear_message(tmp_path):
    bad = tmp_path / "garbage.duckdb"
    bad.write_bytes(b"garbage" * 1000)
    p = hardtech("status", "--db", bad)
    no_traceback(p)
    assert p.returncode == 2 and "cannot open store" in p.stderr and "hardtech check" in p.stderr
    p = hardtech("check", "--db", bad)
    assert p.returncode == 1 and "damaged" in p.stderr
    p = hardtech("check", "--db", tmp_path / "absent.duckdb")
    assert p.returncode == 2 and "no store" in p.stderr


def test_status_refuses_a_truncated_store_instead_of_printing_counts(tmp_path):
    db = filled_store(tmp_path / "t.duckdb", rows=1_000)
    before = db.stat().st_size
    # rows written after the last checkpoint (a process that died before closing), then the file cut short:
    # the counts still read, the rows do not
    code = ("import os; from hardtech.store.connection import Store; s = Store(%r); s.con.execute(\"INSERT INTO "
            "organizations (org_id, name_en, source_name) SELECT 'n' || range, md5(range::VARCHAR), 't' "
            "FROM range(1000000)\"); os._exit(0)" % str(db))
    subprocess.run([sys.executable, "-c", code], check=True, env=dict(os.environ, PYTHONPATH=os.environ.get(
        "HARDTECH_SRC", str(ROOT / "src"))), timeout=300)
    assert db.stat().st_size > before + 1_000_000
    os.truncate(db, before + (db.stat().st_size - before) // 2)
    p = hardtech("status", "--db", db)
    no_traceback(p)
    assert p.returncode == 2 and "truncated" in p.stderr and "1001000" not in p.stdout
    p = hardtech("check", "--db", db)
    assert p.returncode == 1 and "truncated" in p.stdout


def test_a_damaged_block_is_found_by_check_and_reported_by_queries(tmp_path):
    db = filled_store(tmp_path / "d.duckdb", rows=300_000)
    with open(db, "r+b") as f:  # overwrite part of a data block in the middle of the file
        f.seek(db.stat().st_size // 2)
        f.write(b"\xff" * 512)
    p = hardtech("check", "--db", db)
    no_traceback(p)
    assert p.returncode == 1 and "damaged" in p.stderr
    p = hardtech("sql", "SELECT count(DISTINCT name_en) FROM organizations", "--db", db)
    no_traceback(p)
    assert p.returncode == 2 and "damaged" in p.stderr


def test_a_full_disk_during_an_import_is_a_message_and_changes_nothing(tmp_path):
    db = filled_store(tmp_path / "f.duckdb", rows=10)
    big = tmp_path / "orgs.csv"
    big.write_text("org_id,kind,name_en\n" + "".join(f"n{i},company,New organisation {i}\n" for i in range(200_000)))
    p = hardtech("import", "organizations", big, "--db", db, limit_bytes=db.stat().st_size + 200_000)
    no_traceback(p)
    assert p.returncode == 2 and "disk is full" in p.stderr and "nothing of this operation was saved" in p.stderr
    assert hardtech("check", "--db", db).returncode == 0
    with Store(db, read_only=True) as s:
        assert s.count("organizations") == 10 and s.count("imports") == 0


def test_sql_results_of_any_type_are_written_in_every_format(tmp_path):
    db = filled_store(tmp_path / "s.duckdb", rows=3)
    p = hardtech("sql", "SELECT * FROM duckdb_settings()", "-f", "csv", "--db", db)
    no_traceback(p)
    assert p.returncode == 0 and p.stdout.startswith("name,")
    out = tmp_path / "m.parquet"
    p = hardtech("sql", "SELECT MAP {'a': 1, 'b': 2} AS m, 1::HUGEINT AS h", "-f", "parquet", "-o", out, "--db", db)
    no_traceback(p)
    assert p.returncode == 0
    import pyarrow.parquet as pq

    t = pq.read_table(out)
    assert str(t.schema.field("m").type).startswith("map") and t.column("m").to_pylist() == [[("a", 1), ("b", 2)]]


def test_a_store_from_a_newer_version_is_refused_by_the_cli(tmp_path):
    import duckdb

    db = filled_store(tmp_path / "n.duckdb", rows=1)
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', now())")
    con.close()
    p = hardtech("status", "--db", db)
    no_traceback(p)
    assert p.returncode == 2 and "newer than this hardtech" in p.stderr
