"""`hardtech export --parquet` leaves API credentials behind: an export goes to shared storage (a cluster's
disks, S3) and nothing that reads it checks tokens (writes and their token checks run on the DuckDB file)."""

from __future__ import annotations

import json

import duckdb
from typer.testing import CliRunner

from hardtech.presentation.cli.app import app
from hardtech.services.tokens import create_token
from hardtech.store.connection import Store
from hardtech.store.export import KEPT_BACK


def test_export_writes_api_tokens_without_rows_and_every_other_table_whole(tmp_path):
    db = tmp_path / "s.duckdb"
    with Store(db):
        pass
    secret = create_token(db, "analyst")["token"]
    res = CliRunner().invoke(app, ["export", "--parquet", str(tmp_path / "x"), "--db", str(db), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["table"]: r["rows"] for r in json.loads(res.stdout)}
    assert set(KEPT_BACK) == {"api_tokens"}
    assert rows["api_tokens"] == 0
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tables"]["api_tokens"] == 0
    con = duckdb.connect()
    f = str(tmp_path / "x" / "api_tokens.parquet")
    assert con.execute(f"SELECT count(*) FROM read_parquet('{f}')").fetchall() == [(0,)]
    cols = [c[0] for c in con.execute(f"DESCRIBE SELECT * FROM read_parquet('{f}')").fetchall()]
    with Store(db, read_only=True) as store:
        assert store.count("api_tokens") == 1  # the store keeps its token
        assert cols == [c[0] for c in store.con.execute("DESCRIBE api_tokens").fetchall()]
        # every other table is whole
        for name, n in rows.items():
            if name not in KEPT_BACK:
                assert n == store.count(name), name
    blob = b"".join(p.read_bytes() for p in (tmp_path / "x").iterdir())
    assert secret.encode() not in blob and b"sha256:" not in blob
