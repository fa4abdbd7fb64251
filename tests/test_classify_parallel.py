"""Classifying over several processes (`classify_batch(jobs=…)`, `classify --jobs`) gives the verdicts of
one process bit for bit, evidence included, whether the workers write it or this process writes it
later; a worker's failure is raised in the caller.

Texts: those of test_classify_batch (300 AI patents from the bundled 31k-patent file and short cases);
the analysis step (`pipeline.BATCH`) is made small so that a few hundred texts make several parts.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from hardtech.analytics.classify import load_classifier, parallel, pipeline

from test_classify_batch import CASES, cases_csv, records  # noqa: F401 - the fixture is used by name

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="no fork on this platform: one process only")


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


def _same(a, b):
    for col in ("field_proba", "order", "assigned", "typology", "trl", "insufficient"):
        assert np.array_equal(getattr(a, col), getattr(b, col)), col
    assert np.array_equal(a.typology_proba, b.typology_proba, equal_nan=True)
    assert a.kinds == b.kinds


def test_plan_covers_the_rows_in_whole_steps():
    for n, jobs, step in [(10, 2, 4), (4096 * 5 - 7, 2, 4096), (31_044, 2, 4096), (9, 3, 3), (5, 4, 4), (1, 8, 4)]:
        parts = parallel.plan(n, jobs, step)
        assert parts[0][0] == 0 and parts[-1][1] == n
        assert all(a[1] == b[0] for a, b in zip(parts, parts[1:]))
        assert all(lo % step == 0 and hi > lo for lo, hi in parts)
        assert len(parts) == min(jobs, -(-n // step))
        sizes = [-(-(hi - lo) // step) for lo, hi in parts]  # steps per part differ by at most one
        assert max(sizes) - min(sizes) <= 1


def test_workers_give_the_verdicts_of_one_process(clf, records, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pipeline, "BATCH", 37)
    one = clf.classify_batch(records, jobs=1)
    for jobs in (2, 3):
        many = clf.classify_batch(records, jobs=jobs)
        _same(one, many)
        # evidence of a worker's rows, written here when read (the worker sent columns only)
        for i in (0, 36, 37, 150, 200, len(records) - 1):
            assert many.evidence(i) == one.evidence(i), i
        written = clf.classify_batch(records, jobs=jobs, evidence=True)  # written by the workers
        _same(one, written)
        assert written.evidence_column() == one.evidence_column()


def test_classify_rows_in_workers_equal_one_process(clf, records, monkeypatch):  # noqa: F811
    monkeypatch.setattr(pipeline, "BATCH", 50)
    assert clf.classify(records, jobs=2) == clf.classify(records, jobs=1)


def test_small_calls_stay_in_this_process(clf, records, monkeypatch):  # noqa: F811
    forked = []
    monkeypatch.setattr(parallel, "run_parts", lambda *a, **k: forked.append(1))
    clf.classify_batch(records, jobs=4)  # one step (BATCH rows or fewer): no worker
    assert forked == []


def test_jobs_must_be_positive(clf):
    from hardtech.errors import UsageError

    with pytest.raises(UsageError):
        clf.classify_batch(["a text"], jobs=0)


def _fail_after_first(lo: int, hi: int):
    if lo > 0:
        raise ValueError(f"part {lo}-{hi} failed")
    return (lo, hi)


def _die_after_first(lo: int, hi: int):
    import os

    if lo > 0:
        os._exit(3)  # as if killed: no exception to send back
    return (lo, hi)


def test_a_worker_that_dies_is_an_error_not_a_hang():
    from concurrent.futures.process import BrokenProcessPool

    with pytest.raises(BrokenProcessPool):
        parallel.run_parts(_die_after_first, [(0, 2), (2, 4)])


def test_a_workers_error_is_raised_here():
    assert parallel.run_parts(lambda lo, hi: (lo, hi), [(0, 2), (2, 4), (4, 5)]) == [(0, 2), (2, 4), (4, 5)]
    with pytest.raises(ValueError, match="part 2-4 failed"):
        parallel.run_parts(_fail_after_first, [(0, 2), (2, 4)])


def test_cli_jobs_option_gives_the_same_output(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    monkeypatch.setattr(pipeline, "BATCH", 5)
    f = cases_csv(tmp_path / "d.csv")
    runner = CliRunner()
    outs = []
    for jobs in ("1", "2"):
        r = runner.invoke(app, ["classify", "--file", str(f), "-f", "jsonl", "--jobs", jobs])
        assert r.exit_code == 0, r.output
        outs.append([json.loads(x) for x in r.stdout.splitlines()])
    assert outs[0] == outs[1] and len(outs[0]) == sum(isinstance(c, str) for c in CASES)
    bad = runner.invoke(app, ["classify", "--file", str(f), "--jobs", "0"])
    assert bad.exit_code != 0


def test_store_verdicts_over_workers_equal_one_process(tmp_path, monkeypatch):
    """Classify-into-the-store saves the same verdicts and evidence with --jobs 2 as with --jobs 1."""
    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    monkeypatch.setattr(pipeline, "BATCH", 2)
    runner = CliRunner()
    db = tmp_path / "s.duckdb"
    o = tmp_path / "o.csv"
    texts = [c for c in CASES if isinstance(c, str) and c.strip() and "," not in c and '"' not in c]
    o.write_text("org_id,name_en,description_en\n" + "".join(f"o{i},N{i},{t}\n" for i, t in enumerate(texts)),
                 encoding="utf-8")
    assert runner.invoke(app, ["import", "organizations", str(o), "--db", str(db)]).exit_code == 0
    saved = []
    for jobs in ("1", "2"):
        res = runner.invoke(app, ["classify", "--db", str(db), "--jobs", jobs, "-f", "json"])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["sql", "SELECT entity_id, top_field, fields, field_probabilities, typology, "
                                         "typology_probabilities, trl, evidence FROM classifications ORDER BY entity_id",
                                  "--db", str(db), "-f", "json"])
        saved.append(json.loads(res.stdout))
    assert len(saved[0]) == len(texts) and saved[0] == saved[1]


def _in_daemon(q):
    q.put(parallel.can_fork())


def test_a_daemonic_worker_classifies_in_process():
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_in_daemon, args=(q,), daemon=True)
    p.start()
    assert q.get(timeout=60) is False
    p.join()
