"""The demo's score counts and leaders read one weights version: the one saved most recently.

A store scored under two weights versions keeps both (`analytics/score_versions.py`); a count over every version
would let an old version's rows decide an organisation's "latest" score. Uses the session's demo store.
"""

from __future__ import annotations

import shutil

import duckdb


def test_an_older_weights_version_changes_neither_the_counts_nor_the_leaders(demo_base, tmp_path):
    from hardtech.demo import hardness_leaders, hardness_summary

    db = tmp_path / "two_versions.duckdb"
    shutil.copyfile(demo_base, db)
    before = hardness_summary(db, min_confidence=0.6), hardness_leaders(db, top=5, min_confidence=0.5)
    con = duckdb.connect(str(db))
    # the same organisations under an older version, a year later and fully confident: read by year alone,
    # these rows would be every organisation's latest and all pass the confidence bar
    con.execute("""INSERT INTO scores BY NAME
                   SELECT * REPLACE (year + 1 AS year, 1.0 AS confidence, 99.0 AS score, 'old-version' AS weights_version,
                                     scored_at - INTERVAL 30 DAY AS scored_at)
                   FROM scores""")
    n_old = con.execute("SELECT count(*) FROM scores WHERE weights_version = 'old-version'").fetchall()[0][0]
    con.close()
    assert n_old > 1000
    after = hardness_summary(db, min_confidence=0.6), hardness_leaders(db, top=5, min_confidence=0.5)
    assert after == before
    assert before[0]["confident"] < before[0]["scored"] and before[0]["best_confidence"] < 1.0
