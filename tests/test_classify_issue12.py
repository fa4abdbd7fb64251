"""Issue 12: verdicts that hold on real text — the named faults, outputs for programs, weak labels."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from hardtech.analytics.classify import load_classifier
from hardtech.analytics.classify import orgkind
from hardtech.analytics.classify.lexicon import NEG, POS, load_lexicon
from hardtech.analytics.classify.text import clean
from hardtech.analytics.classify.units import STOP_WORDS, units
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS
from hardtech.presentation.cli.app import app


@pytest.fixture(scope="module")
def clf():
    return load_classifier()


def one(clf, text, **kw):
    return clf.classify([{"text": text, **kw}])[0]


def fields_of(r):
    return {x["field"] for x in r["fields"]}


# -- the cases named in the issue, in both languages ---------------------------------------------

@pytest.mark.parametrize("text", [
    "Authorized distributor of semiconductors and electronic components from leading chip makers.",
    "授权代理分销各大原厂的半导体芯片和电子元器件，为客户提供供应链服务。",
])
def test_a_distributor_is_not_hard_core(clf, text):
    assert one(clf, text)["typology"] in ("high", "model_innovation")


@pytest.mark.parametrize("text", [
    "Independent video game studio making narrative adventure games for PC and consoles.",
    "独立游戏工作室，开发面向PC和主机平台的叙事冒险游戏。",
])
def test_a_game_studio_is_not_deep_tech(clf, text):
    assert one(clf, text)["typology"] in ("high", "model_innovation")


@pytest.mark.parametrize("text", [
    "A foldable selfie quadcopter that fits in your pocket and follows you.",
    pytest.param("可折叠的自拍四旋翼无人机，能装进口袋并自动跟随拍摄。", marks=pytest.mark.xfail(
        strict=True, reason="issue 12 open: the typology reads a drone in Chinese as hard & core (aerospace "
        "field, physical product); the seeds say consumer drones are high tech")),
])
def test_a_selfie_quadcopter_is_aerospace_and_not_hard_core(clf, text):
    r = one(clf, text)
    assert "aerospace" in fields_of(r)
    assert r["typology"] != "hard_core"


@pytest.mark.parametrize("text", ["手机一键叫车", "One-tap ride hailing on your phone"])
def test_one_tap_ride_hailing_is_model_innovation(clf, text):
    assert one(clf, text)["typology"] == "model_innovation"


@pytest.mark.parametrize("text", [
    "An AI-powered CRM that writes follow-up emails for sales teams.",
    "基于大模型的智能客服SaaS，帮助电商商家自动回复顾客咨询。",
])
def test_applied_ai_software_is_in_the_ai_field_and_not_hard_core(clf, text):
    r = one(clf, text)
    assert "ai" in fields_of(r)
    assert r["typology"] in ("high", "model_innovation")


@pytest.mark.parametrize("text", ["LLM agents that automate customer support tickets.",
                                  "Building GPT-based AI agents for accountants."])
def test_todays_ai_vocabulary(clf, text):
    assert "ai" in fields_of(one(clf, text))


@pytest.mark.parametrize("text", [
    "HR software for small businesses: payroll, benefits and onboarding in one SaaS subscription.",
    "面向中小企业的人力资源SaaS软件，提供薪酬、社保和入职管理。",
])
def test_software_businesses_have_positive_typology_evidence(clf, text):
    r = one(clf, text)
    assert r["typology"] == "high"
    assert r["typology_probabilities"]["hard_core"] + r["typology_probabilities"]["deep"] < 0.5


@pytest.mark.parametrize("text,kind", [
    ("Sequoia Capital is a venture capital firm that invests in technology start-ups.", "investor"),
    ("Stanford University is a private research university in California.", "university"),
    ("The Max Planck Institute for Plasma Physics runs fusion experiments.", "institute"),
    ("中国科学院西安光学精密机械研究所是以光学为主的综合性研究所。", "institute"),
    ("深圳市科技创新委员会负责全市科技创新政策的制定和实施。", "government"),
    ("清华大学是一所综合性研究型大学。", "university"),
])
def test_only_companies_and_projects_get_a_typology(clf, text, kind):
    r = one(clf, text)
    assert r["kind"] == kind and r["typology"] is None and r["typology_probabilities"] == {}
    assert "only companies and projects" in r["evidence"]


def test_declared_kind_gates_and_spin_outs_stay_companies(clf):
    text = "Builds launch vehicles and satellites."
    assert one(clf, text, kind="investor")["typology"] is None
    assert one(clf, text, kind="startup")["typology"] is not None
    assert orgkind.detect("Oxford University spin-out whose sequencers read single DNA strands.") is None
    assert orgkind.detect("中科寒武纪科技股份有限公司孵化自中国科学院计算技术研究所，研发智能芯片。") is None


def test_the_store_gives_no_typology_to_investors(tmp_path):
    runner = CliRunner()
    db = tmp_path / "s.duckdb"
    o = tmp_path / "o.csv"
    o.write_text("org_id,name_en,description_en,kind\nx,Xco,Builds launch vehicles and satellites,company\n"
                 "v,Vcap,Invests in launch vehicle and satellite companies,investor\n", encoding="utf-8")
    assert runner.invoke(app, ["import", "organizations", str(o), "--db", str(db)]).exit_code == 0
    res = runner.invoke(app, ["classify", "--db", str(db), "-f", "json"])
    assert res.exit_code == 0, res.output
    rows = {r["entity_id"]: r for r in json.loads(res.stdout)}
    assert rows["x"]["typology"] is not None and rows["v"]["typology"] is None


# -- roots of the faults ------------------------------------------------------------------------

def test_chinese_negative_terms_match_only_where_written():
    lex = load_lexicon()
    texts = [clean("公司研发工业级无人机，产品通过经销商渠道销售。"), clean("公司从事无人机销售与租赁。")]
    h = lex.match(units(texts))
    assert not lex.terms_by(h.terms_of(0), NEG)
    assert "无人机销售" in lex.terms_by(h.terms_of(1), NEG)
    assert "无人机" in lex.terms_by(h.terms_of(0), POS)


def test_english_terms_ignore_order_and_stop_words():
    lex = load_lexicon()
    h = lex.match(units([clean("Landing on Mars"), clean("a Mars landing"), clean("consumer quadcopter drones")]))
    assert lex.terms_by(h.terms_of(0), 2) == lex.terms_by(h.terms_of(1), 2) != []
    assert "consumer drone" in lex.terms_by(h.terms_of(2), 2)


def test_the_text_model_has_no_stop_words_and_is_length_normalised(clf):
    tm = clf.fields_.text_
    assert not set(tm.unigrams_) & STOP_WORDS
    short = "Develops CRISPR gene editing therapies for rare diseases."
    padded = short + " " + " ".join(["Our team works in San Francisco and will grow."] * 30)
    X = tm.matrix(units([clean(short), clean(padded)]))
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0, atol=1e-5)


def test_long_boilerplate_does_not_make_a_field(clf):
    filler = " ".join(["We are a team of passionate people who care about our customers and will keep "
                       "improving the service in the months ahead."] * 20)
    r = one(clf, "A marketplace for renting furniture. " + filler)
    assert r["fields"] == [] or max(x["probability"] for x in r["fields"]) < 0.6


def test_evidence_never_cites_absent_virtual_cues_for_hard_core(clf):
    r = one(clf, "Manufactures silicon carbide power chips on its own 8-inch wafer line; volume production.")
    assert r["typology"] == "hard_core"
    assert "trading, distribution or services" not in r["evidence"]


# -- outputs for programs -------------------------------------------------------------------------

def test_json_output_is_structured_and_csv_flat(tmp_path):
    runner = CliRunner()
    res = runner.invoke(app, ["classify", "--text", "Designs lidar sensors for autonomous driving", "-f", "json"])
    assert res.exit_code == 0, res.output
    r = json.loads(res.stdout)[0]
    assert isinstance(r["fields"], list) and all(set(x) == {"field", "probability"} for x in r["fields"])
    assert list(r["field_probabilities"]) == list(FIELD_IDS)
    assert set(r["typology_probabilities"]) == set(TYPOLOGY_IDS)
    assert abs(sum(r["typology_probabilities"].values()) - 1) < 1e-3
    res = runner.invoke(app, ["classify", "--text", "Designs lidar sensors for autonomous driving", "-f", "csv"])
    row = next(csv.DictReader(io.StringIO(res.stdout)))
    assert ":" in row["fields"] and "|" not in row["typology"]
    f = tmp_path / "in.csv"
    f.write_text("name,description\nA,Designs lidar sensors for autonomous driving\n", encoding="utf-8")
    out = tmp_path / "o.parquet"
    res = runner.invoke(app, ["classify", "--file", str(f), "-f", "parquet", "-o", str(out)])
    assert res.exit_code == 0, res.output
    import pyarrow.parquet as pq

    t = pq.read_table(out).to_pylist()[0]
    assert t["fields"][0]["field"] and set(t["field_probabilities"]) == set(FIELD_IDS)


def test_threshold_option_changes_what_is_assigned(clf):
    runner = CliRunner()
    text = "Designs lidar sensors for autonomous driving"
    lo = json.loads(runner.invoke(app, ["classify", "--text", text, "-f", "json", "--threshold", "0.05"]).stdout)[0]
    hi = json.loads(runner.invoke(app, ["classify", "--text", text, "-f", "json", "--threshold", "0.99"]).stdout)[0]
    assert len(lo["fields"]) > len(hi["fields"])
    assert all(x["probability"] >= 0.05 for x in lo["fields"])
    res = runner.invoke(app, ["classify", "--text", text, "--threshold", "0"])
    assert res.exit_code == 2


def test_default_threshold_and_traditional_folding(clf):
    assert clf.field_threshold == 0.35
    a = one(clf, "研發碳化硅功率器件，已實現量產")
    b = one(clf, "研发碳化硅功率器件，已实现量产")
    assert a["field_probabilities"] == b["field_probabilities"] and a["top_field"] == "photonics_chips"


# -- weak labels and concordances -----------------------------------------------------------------

def test_label_concordances_are_valid_and_cover_the_named_sub_industries():
    from hardtech.analytics.classify.training_data import labels_from, load_label_concordance

    yc = load_label_concordance("yc_tags.csv")
    it = load_label_concordance("itjuzi_industries.csv")
    assert labels_from(it, [("subindustry", "机器人")])[0] == {"intelligent_manufacturing"}
    assert labels_from(it, [("subindustry", "飞行器")])[0] == {"aerospace"}
    assert labels_from(it, [("subindustry", "芯片半导体")])[0] == {"photonics_chips"}
    f, hint, unknown = labels_from(yc, [("industry", "Fintech"), ("tag", "Marketplace"), ("tag", "AI")])
    assert f == {"ai"} and hint == "model_innovation" and not unknown


def test_held_out_split_is_deterministic_and_about_thirty_percent():
    from hardtech.analytics.classify.training_data import split_of

    parts = [split_of("yc", f"company {i}") for i in range(2000)]
    assert parts == [split_of("yc", f"company {i}") for i in range(2000)]
    assert 0.26 < parts.count("test") / len(parts) < 0.34


def test_the_shipped_model_records_its_training_data(clf):
    src = clf.training_.get("sources", {})
    assert src.get("devset") == 563
    assert "licence_note" in clf.training_


def test_weak_sources_load_from_shared(shared):
    from hardtech.analytics.classify.training_data import itjuzi, yc

    folder = shared("yc_companies_half.csv").parent
    shared("itjuzi_ai_companies_half.csv")
    y = yc(folder)
    assert len(y) > 2000 and {"train", "test"} == set(y.split)
    assert sum("ai" in f.split("|") for f in y.fields) > 200
    j = itjuzi(folder)
    assert len(j) > 300 and all("ai" in f.split("|") for f in j.fields)


# -- the model's structure (issue 12, items 1, 3, 5) ------------------------------------------------

def test_one_text_matrix_per_batch(clf, monkeypatch):
    """The field model, the typology model and the evidence read one sparse matrix per batch."""
    from hardtech.analytics.classify.textmodel import TextModel

    built = []
    real = TextModel.matrix

    def counting(self, u, cache=None):
        if cache is None:
            built.append(len(u))
        return real(self, u, cache=cache)

    monkeypatch.setattr(TextModel, "matrix", counting)
    clf.classify(["Designs lidar sensors for autonomous driving", "锂电池正极材料的研发与生产"])
    assert built == [2]
    assert clf.typology_.text_.vocab_key_ == clf.fields_.text_.vocab_key_


def test_field_probabilities_are_calibrated_out_of_fold(clf):
    """Platt scaling per field, fitted on out-of-fold scores: a positive slope for every field."""
    assert clf.fields_.platt_.shape == (len(FIELD_IDS), 2)
    assert (clf.fields_.platt_[:, 0] > 0).all()


def test_weak_sources_get_their_own_typology_priors(clf):
    """The shipped model was fitted with the YC and IT桔子 train parts: each has its own intercepts,
    unused at prediction."""
    t = clf.typology_
    assert {"yc", "itjuzi"} <= set(t.sources_)
    assert t.source_coef_.shape == (len(t.sources_), len(TYPOLOGY_IDS))
    yc = t.source_coef_[t.sources_.index("yc")]
    # YC's tags call most companies software or marketplaces: its prior leans to those classes
    assert yc[TYPOLOGY_IDS.index("model_innovation")] > yc[TYPOLOGY_IDS.index("hard_core")]


def test_large_inputs_are_judged_in_batches_with_the_same_result(clf, monkeypatch):
    """Memory is bounded by the batch, and a text's verdict does not depend on its neighbours."""
    from hardtech.analytics.classify import pipeline

    texts = ["Designs lidar sensors for autonomous driving", "锂电池正极材料的研发与生产", "Food delivery app",
             "Gene therapy for rare diseases", "", "HR software for small businesses", "卫星制造与发射服务"]
    whole = clf.classify(texts)
    monkeypatch.setattr(pipeline, "BATCH", 3)
    assert clf.classify(texts) == whole
