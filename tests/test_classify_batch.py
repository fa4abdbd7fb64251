"""The bulk path (`classify_batch`: columns, evidence written only when read) gives the verdicts of the
per-text path: the same fields, probabilities and typology for each text judged alone and for the
batch, and, when asked, the same evidence.

Texts: 300 AI patents from the bundled 31k-patent file (title. abstract, with their CPC codes; the
file ships in the package, bundled/README.md) and the short cases the other classify tests use.
"""

from __future__ import annotations

import math
import re
from importlib import resources

import numpy as np
import pytest

from hardtech.analytics.classify import load_classifier
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

CASES = ["", "   ", "Bytedance", "深度求索", "AI", "芯片", "A seed-stage venture capital fund investing in robotics.",
         "Tsinghua University, department of physics.", "国家发展和改革委员会",
         "Consumer quadcopter drones for aerial photography", "消费级四旋翼无人机",
         "可折叠的自拍四旋翼无人机，能装进口袋并自动跟随拍摄。", "手机一键叫车", "One-tap ride hailing on your phone",
         "We distribute semiconductors from Texas Instruments to factories in Shenzhen.",
         "Solid-state lithium batteries with a sulfide electrolyte for electric vehicles. TRL 6 pilot line.",
         "Designs lidar sensors for autonomous driving", "锂电池正极材料的研发与生产",
         "<p>Silicon carbide power devices &amp; modules</p>", "量子通信网络 quantum key distribution",
         {"text": "", "codes": "cpc:G06N3/08"}, {"text": "Acme", "codes": ["cpc:H01M10/0525"]},
         {"text": "Peking University runs a lab on gene editing.", "kind": "university"}]


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


@pytest.fixture(scope="module")
def records():
    import pyarrow.parquet as pq

    path = resources.files("hardtech.data") / "bundled" / "patents_ai_cpc_31k.parquet"
    t = pq.read_table(str(path), columns=["title", "abstract", "cpc_codes"]).slice(0, 31_000).to_pylist()
    recs = []
    for r in t[::103][:300]:
        title, abstract = r["title"] or "", r["abstract"] or ""
        recs.append({"text": f"{title}. {abstract}" if title and abstract else (title or abstract),
                     "codes": [f"cpc:{c.strip()}" for c in re.split(r"[,|]", r["cpc_codes"] or "") if c.strip()]})
    assert len(recs) == 300
    return recs + CASES


def _check_same(v, i, one, tol):
    got = v.field_proba[i]
    want = np.array([one["field_probabilities"][f] for f in FIELD_IDS])
    assert np.abs(got - want).max() <= tol, (i, got, want)
    assert [x["field"] for x in one["fields"]] == [x["field"] for x in v.fields(i)], i
    t = v.typology[i]
    assert (TYPOLOGY_IDS[t] if t >= 0 else None) == one["typology"], i
    if one["typology"]:
        want_t = np.array([one["typology_probabilities"][c] for c in TYPOLOGY_IDS])
        assert np.abs(v.typology_proba[i] - want_t).max() <= tol, i
    else:
        assert np.isnan(v.typology_proba[i]).all()
    assert (int(v.trl[i]) or None) == one["trl"] and v.kinds[i] == one["kind"]
    assert bool(v.insufficient[i]) == one["insufficient"]


def test_bulk_columns_equal_the_per_text_results(clf, records):
    v = clf.classify_batch(records)
    rows = clf.classify(records)
    assert len(v) == len(rows) == len(records)
    for i, one in enumerate(rows):
        _check_same(v, i, one, 1e-9)
        assert v.evidence(i) == one["evidence"], i


def test_each_text_judged_alone_gets_the_same_verdict(clf, records):
    """Alone or in a batch: the same fields, typology, TRL and kind. Probabilities agree to one step
    of their 4-place rounding: a matrix product's last float bit depends on the batch's shape (BLAS
    picks its kernel by size), and a value on a rounding boundary moves by 0.0001 (1 of these 300
    patents, with the code before the bulk path too)."""
    v = clf.classify_batch(records)
    for i, rec in enumerate(records):
        _check_same(v, i, clf.classify([rec])[0], 1e-4 + 1e-9)


def test_rows_are_what_classify_returns(clf, records):
    assert clf.classify_batch(records).rows() == clf.classify(records)
    bare = clf.classify_batch(records).rows(evidence=False)
    assert all("evidence" not in r for r in bare)
    assert [{**r, "evidence": e["evidence"]} for r, e in zip(bare, clf.classify(records))] == clf.classify(records)


def test_evidence_is_written_only_when_read(clf, records, monkeypatch):
    from hardtech.analytics.classify import evidence

    made = []
    real = evidence.BatchEvidence.__init__

    def counting(self, *a, **kw):
        made.append(1)
        real(self, *a, **kw)

    monkeypatch.setattr(evidence.BatchEvidence, "__init__", counting)
    v = clf.classify_batch(records)
    v.to_arrow()
    assert made == []
    first = v.evidence(0)
    again = v.evidence(0)
    assert made == [1] and first == again and first


def test_batches_larger_than_one_analysis_step(clf, records, monkeypatch):
    """Inputs are analysed in steps (BATCH); the columns and the lazily written evidence of every step
    line up with the inputs. In one process (jobs=1): over several, a worker's steps come back as one
    part (test_classify_parallel.py)."""
    from hardtech.analytics.classify import pipeline

    whole = clf.classify_batch(records)
    monkeypatch.setattr(pipeline, "BATCH", 37)
    stepped = clf.classify_batch(records, jobs=1)
    assert len(stepped._evidence) == math.ceil(len(records) / 37)
    assert np.abs(stepped.field_proba - whole.field_proba).max() <= 1e-9
    assert (stepped.typology == whole.typology).all()
    for i in (0, 36, 37, 38, len(records) - 1):
        assert stepped.evidence(i) == whole.evidence(i)


def test_arrow_table_holds_the_same_verdicts(clf, records):
    v = clf.classify_batch(records)
    t = v.to_arrow(evidence=True)
    rows = v.rows()
    assert t.num_rows == len(rows)
    d = t.to_pydict()
    for i, r in enumerate(rows):
        assert d["fields"][i] == [x["field"] for x in r["fields"]]
        assert d["top_field"][i] == r["top_field"] and d["typology"][i] == r["typology"]
        assert d["trl"][i] == r["trl"] and d["evidence"][i] == r["evidence"]
        assert [d[f"p_{f}"][i] for f in FIELD_IDS] == [r["field_probabilities"][f] for f in FIELD_IDS]
        got_t = {c: d[f"t_{c}"][i] for c in TYPOLOGY_IDS if d[f"t_{c}"][i] is not None}
        assert got_t == r["typology_probabilities"]


def cases_csv(f):
    """The text CASES as a file `classify --file` reads (id, description)."""
    import csv

    with f.open("w", newline="", encoding="utf-8") as h:
        w = csv.writer(h)
        w.writerow(["id", "description"])
        for i, text in enumerate(c for c in CASES if isinstance(c, str)):
            w.writerow([i, text])
    return f


def test_cli_file_without_evidence_gives_the_same_verdicts(tmp_path):
    import json

    from typer.testing import CliRunner

    from hardtech.presentation.cli.app import app

    f = cases_csv(tmp_path / "d.csv")
    runner = CliRunner()
    full = runner.invoke(app, ["classify", "--file", str(f), "-f", "jsonl"])
    bare = runner.invoke(app, ["classify", "--file", str(f), "-f", "jsonl", "--no-evidence"])
    assert full.exit_code == 0 and bare.exit_code == 0, (full.output, bare.output)
    a = [json.loads(x) for x in full.stdout.splitlines()]
    b = [json.loads(x) for x in bare.stdout.splitlines()]
    assert len(a) == len(b) == sum(isinstance(c, str) for c in CASES)
    assert all("evidence" not in r for r in b) and all(r["evidence"] for r in a)
    assert [{k: v for k, v in r.items() if k != "evidence"} for r in a] == b


def test_the_encoder_reusing_the_classifiers_words_gives_the_same_vectors(records, monkeypatch):
    """`StaticEncoder.encode(words=…)` maps the word ids `units` already looked up to its columns: the
    same vectors bit for bit, also for texts it must cut or that hold characters it treats apart, and
    after the word table starts over (a new generation of ids)."""
    from hardtech.analytics.classify import units as U
    from hardtech.analytics.classify.text import clean
    from hardtech.analytics.embeddings import StaticEncoder

    texts = [clean(r["text"] if isinstance(r, dict) else r) for r in records]
    texts += ["a\x00b c", "x\x0by z", "q " * 4000, "long" * 2000, "正常 text", ""]
    plain, reusing = StaticEncoder(), StaticEncoder()
    for _ in range(2):  # the second time every word is known to both
        assert np.array_equal(plain.encode(texts), reusing.encode(texts, words=U.units(texts).words))
    monkeypatch.setattr(U.WordUnits, "LIMIT", 50)
    before = U.WORDS.generation
    for k, part in enumerate((texts[:40], texts[40:90], texts[:40])):  # a new word past the limit: ids start over
        part = [f"unseen{k}word {t}" for t in part]
        u = U.units(part)
        assert np.array_equal(plain.encode(part), reusing.encode(part, words=u.words))
    assert U.WORDS.generation >= before + 3


def test_one_blas_thread_gives_the_same_bits_and_restores_the_count(clf, records):
    """The parts of a call over several processes run their matrix products on one BLAS thread each
    (`parallel.one_blas_thread`); the columns are those of the caller's thread count, bit for bit,
    and the count is restored after."""
    from hardtech.analytics.classify import parallel

    libs = parallel._openblas()
    assert libs, "numpy's OpenBLAS not found: the workers would oversubscribe the cores"
    before = [get() for get, _ in libs]
    many = [r for r in records for _ in range(8)]  # products large enough for OpenBLAS to use its threads
    usual = clf.classify_batch(many, jobs=1)
    with parallel.one_blas_thread():
        assert [get() for get, _ in libs] == [1] * len(libs)
        single = clf.classify_batch(many, jobs=1)
    assert [get() for get, _ in libs] == before
    for col in ("field_proba", "order", "assigned", "typology", "trl", "insufficient"):
        assert np.array_equal(getattr(usual, col), getattr(single, col)), col
    assert np.array_equal(usual.typology_proba, single.typology_proba, equal_nan=True)
