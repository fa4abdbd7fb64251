"""The synthetic universe must be deterministic, schema-exact, valid and as skewed as real data."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from hardtech.errors import UsageError
from hardtech.tools import synthetic as syn
from hardtech.tools.synthetic import LADDER, SynthConfig, generate, iter_financials_csv, truth, write
from hardtech.schema import TABLES

N = 20_000
CFG = SynthConfig(orgs=N, seed=7)


@pytest.fixture(scope="module")
def tables() -> dict[str, pa.Table]:
    return generate(CFG)


@pytest.fixture(scope="module")
def frames(tables) -> dict[str, pd.DataFrame]:
    return {k: t.to_pandas() for k, t in tables.items()}


def test_same_seed_same_tables_other_seed_other_tables():
    a, b = generate(SynthConfig(orgs=3000, seed=1)), generate(SynthConfig(orgs=3000, seed=1))
    c = generate(SynthConfig(orgs=3000, seed=2))
    assert set(a) == set(syn.TABLE_NAMES)
    for name in syn.TABLE_NAMES:
        assert a[name].equals(b[name]), name
        assert not a[name].equals(c[name]), name


def test_columns_are_schema_data_columns_plus_synthetic(tables):
    for name, t in tables.items():
        assert t.column_names == TABLES[name].data_names + ["synthetic"], name
        for col in TABLES[name].columns:
            assert t.schema.field(col.name).type == syn._TYPES[col.type], (name, col.name)
        assert t.schema.field("synthetic").type == pa.bool_()
        assert t.num_rows > 0
        assert pc.all(t.column("synthetic")).as_py() is True
        assert t.column("synthetic").null_count == 0


def test_choices_and_minimums_hold(tables):
    for name, t in tables.items():
        for col in TABLES[name].columns:
            values = t.column(col.name)
            if col.choices:
                flat = pc.list_flatten(values) if col.is_list else values
                bad = set(pc.unique(flat.drop_null()).to_pylist()) - set(col.choices)
                assert not bad, (name, col.name, bad)
            if col.minimum is not None and values.null_count < len(values):
                assert pc.min(values).as_py() >= col.minimum, (name, col.name)
            if col.required:
                assert values.null_count == 0, (name, col.name)


def test_ids_unique_and_references_exist(frames):
    orgs, inv = frames["organizations"], frames["investors"]
    assert orgs.org_id.is_unique and orgs.org_id.str.fullmatch(r"syn:\d{7}").all()
    assert inv.investor_id.is_unique and inv.investor_id.str.fullmatch(r"syn-inv:\d{4}").all()
    assert inv.name_en.is_unique and inv.name_zh.is_unique  # round investors resolve by name
    known = set(orgs.org_id)
    assert set(frames["financials"].org_id) <= known
    assert set(frames["patents"].applicant_org_id) <= known
    assert set(frames["funding_rounds"].org_id) <= known
    assert frames["funding_rounds"].round_id.is_unique
    ids = set(np.concatenate(frames["funding_rounds"].investor_ids.to_numpy()))
    assert ids and ids <= set(inv.investor_id)
    assert frames["financials"].duplicated(["org_id", "fiscal_year"]).sum() == 0


def test_organizations_look_like_a_skewed_world(frames):
    o = frames["organizations"]
    share = o.country.value_counts(normalize=True)
    assert 0.45 < share["CN"] < 0.55 and 0.15 < share["US"] < 0.25
    kinds = o.kind.value_counts(normalize=True)
    assert kinds["company"] + kinds["startup"] > 0.85 and {"university", "institute", "investor"} <= set(kinds.index)
    cn = o[o.country == "CN"]
    assert {"Beijing", "Shanghai", "Shenzhen", "Hangzhou", "Xi'an"} <= set(cn.city)
    assert cn.name_zh.notna().all() and cn.province.notna().all()
    assert (o.founded.between(1950, CFG.years[1])).all()
    assert (o[o.kind.isin(["company", "startup"])].founded >= 1980).all()
    assert o.founded.median() > 2005  # skewed recent
    assert o.website.dropna().str.endswith(".example").all()
    assert o.ticker.dropna().str.startswith("SYN").all()
    assert o.industry_codes.map(len).min() >= 1
    assert o.industry_codes.explode().str.match(r"(cn_industry|isic):").all()


def test_descriptions_mention_the_hidden_theme(frames):
    o = frames["organizations"].merge(truth(CFG).to_pandas(), on="org_id", suffixes=("", "_truth"))
    assert len(o) == N and (o.kind == o.kind_truth).all()  # truth and organizations agree on ids and kinds
    for theme, group in o.dropna(subset=["description_en"]).groupby("theme"):
        vocab = syn._VOCAB[theme]
        terms = [x[0] for key in ("product", "tech") for x in vocab[key]]
        hit = group.description_en.map(lambda d: any(t in d for t in terms))
        assert hit.all(), theme
    model = o[o.theme == "model_innovation"]
    assert 0.10 < len(model) / len(o) < 0.20
    assert model.description_en.dropna().str.contains("platform|business model").all()


def test_financial_values_follow_the_validation_rules(frames):
    f = frames["financials"]
    assert (f.rd_expense.dropna() >= 0).all()
    pos = f[(f.revenue > 0) & f.rd_expense.notna()]
    assert (pos.revenue >= pos.rd_expense / 100).all()
    assert (pos.rd_expense > pos.revenue).any()  # R&D may exceed revenue, just not 100 times
    both = f.dropna(subset=["rd_staff", "employees"])
    assert (both.rd_staff <= both.employees).all()
    assert f.fiscal_year.between(*CFG.years).all() and f.fiscal_year.max() <= date.today().year
    pre = f[(f.revenue == 0) | f.revenue.isna()]
    assert len(pre) > 0 and (pre.rd_expense.dropna() > 0).all()  # pre-revenue start-ups still spend on R&D
    assert (f.operating_profit.dropna() < 0).any()
    orgs = frames["organizations"].set_index("org_id")
    country = orgs.country.reindex(f.org_id).to_numpy()
    expected = np.where(country == "CN", "CNY", np.where(country == "US", "USD", "EUR"))
    assert (f.currency.to_numpy() == expected).all()
    held = f.sort_values(["org_id", "fiscal_year"]).groupby("org_id").invention_patents.diff().dropna()
    assert (held >= 0).all()


def test_invention_patents_match_the_patents_table(frames):
    f, p = frames["financials"], frames["patents"]
    granted = p[(p.patent_type == "invention") & p.grant_date.notna()]
    year = pd.to_datetime(granted.grant_date).dt.year
    row = f.loc[f.invention_patents.idxmax()]
    expect = int(((granted.applicant_org_id == row.org_id) & (year <= row.fiscal_year)).sum())
    assert row.invention_patents == expect > 0


def test_heavy_tails(frames):
    f = frames["financials"]
    cn = f[f.currency == "CNY"].groupby("org_id").revenue.sum().sort_values(ascending=False)
    top = cn.iloc[: max(1, len(cn) // 100)].sum() / cn.sum()
    assert top > 0.20
    per_org = frames["patents"].applicant_org_id.value_counts().reindex(frames["organizations"].org_id, fill_value=0)
    assert (per_org == 0).mean() > 0.5  # most organisations hold no patents
    assert per_org.max() > 50 * per_org.mean()
    assert abs(per_org.mean() - CFG.patents_per_org) < 0.2 * CFG.patents_per_org
    rounds = len(frames["funding_rounds"]) / N
    assert abs(rounds - CFG.rounds_per_org) < 0.1 * CFG.rounds_per_org


def test_patent_dates_and_codes_are_consistent(frames):
    p = frames["patents"]
    assert p.publication_number.is_unique and p.publication_number.str.fullmatch(r"SYN\d+").all()
    assert (p.priority_date <= p.filing_date).all() and (p.filing_date <= p.publication_date).all()
    g = p.dropna(subset=["grant_date"])
    assert (g.publication_date <= g.grant_date).all() and len(g) < len(p)
    assert p.publication_date.max() <= min(date(CFG.years[1], 12, 31), date.today())
    assert (p[p.patent_type == "utility_model"].office == "CN").all()
    names = frames["organizations"].set_index("org_id")
    sample = p.sample(200, random_state=0)
    own = names.loc[sample.applicant_org_id]
    assert ((sample.applicant.to_numpy() == own.name_en.to_numpy()) | (sample.applicant.to_numpy() == own.name_zh.to_numpy())).all()
    assert p.cpc_codes.explode().str.fullmatch(r"[A-H]\d\d[A-Z]\d+/\d+").all()
    themes = truth(CFG).to_pandas().set_index("org_id").theme
    chips = p[themes.reindex(p.applicant_org_id).to_numpy() == "photonics_chips"]
    assert chips.cpc_codes.map(lambda c: c[0] in syn._VOCAB["photonics_chips"]["cpc"]).mean() > 0.8
    bio = p[themes.reindex(p.applicant_org_id).to_numpy() == "biotech"]
    assert bio.npl_citations.mean() > 2 * p[themes.reindex(p.applicant_org_id).to_numpy() == "new_materials"].npl_citations.mean()


def test_rounds_climb_the_ladder_in_time(frames):
    r = frames["funding_rounds"]
    rank = {s: i for i, s in enumerate(LADDER)}
    ladder = r[r.stage.isin(rank)].assign(rank=lambda d: d.stage.map(rank))
    assert (ladder.groupby("org_id")["rank"].diff().dropna() > 0).all()
    assert (r.groupby("org_id").date.diff().dropna() > pd.Timedelta(0)).all()  # one round per date, in order
    assert r.date.min() >= date(CFG.years[0], 1, 1) and r.date.max() <= date(CFG.years[1], 12, 31)
    founded = frames["organizations"].set_index("org_id").founded
    assert (pd.to_datetime(r.date).dt.year.to_numpy() >= founded.reindex(r.org_id).to_numpy()).all()
    und = r[~r.disclosed]
    assert 0.10 < len(und) / len(r) < 0.20
    assert und.amount.isna().all() and (und.amount_text == "undisclosed").all()
    rng = r[r.amount_low.notna()]
    assert 0.03 < len(rng) / len(r) < 0.07
    assert rng.amount.isna().all() and (rng.amount_low < rng.amount_high).all() and rng.disclosed.all()
    assert rng[rng.currency == "CNY"].amount_text.isin(["数百万元", "数千万元", "数亿元"]).all()
    single = r[r.amount.notna()]
    assert (single.amount > 0).all() and single.amount_text.str.contains(r"\d").all()
    median = single[single.currency == "USD"].groupby("stage").amount.median()
    assert median["angel"] < median["a"] < median["c"]
    n_inv = r.investors.map(len)
    assert (n_inv == r.investor_ids.map(len)).all() and n_inv.max() <= 4 and (n_inv[r.disclosed] >= 1).all()


def test_investor_power_law(frames):
    counts = frames["funding_rounds"].investor_ids.explode().value_counts()
    top = counts.iloc[: max(1, len(frames["investors"]) // 20)].sum() / counts.sum()
    assert top > 0.3  # the busiest 5% of investors join a large share of rounds
    inv = frames["investors"]
    assert (inv.ticket_min < inv.ticket_max).all()
    assert inv.thesis_fields.map(len).between(1, 3).all()


def test_write_parquet_with_manifest(tables, tmp_path):
    paths = write(tables, tmp_path / "u")
    manifest = json.loads(paths["manifest"].read_text(encoding="utf-8"))
    assert manifest["provenance"] == syn.PROVENANCE and "not real data" in manifest["provenance"]
    assert manifest["synthetic"] is True and manifest["seed"] == CFG.seed and manifest["config"]["orgs"] == N
    assert manifest["generator_version"] == syn.GENERATOR_VERSION
    assert manifest["rows"] == {k: t.num_rows for k, t in tables.items()}
    back = pq.read_table(paths["patents"])
    assert back.replace_schema_metadata(None).equals(tables["patents"].replace_schema_metadata(None))


def test_write_csv_round_trips_with_pandas(tables, tmp_path):
    small = {k: t.slice(0, 500) for k, t in tables.items()}
    paths = write(small, tmp_path, fmt="csv", config=CFG)
    assert json.loads(paths["manifest"].read_text(encoding="utf-8"))["list_separator"] == "|"
    for name, t in small.items():
        text = {c.name: "string" for c in TABLES[name].columns if c.type in ("VARCHAR", "VARCHAR[]")}
        df = pd.read_csv(paths[name], keep_default_na=False, na_values=[""], dtype=text)
        assert list(df.columns) == t.column_names
        assert len(df) == t.num_rows and df.synthetic.astype(str).str.lower().eq("true").all()
        orig = t.to_pandas()
        for col in TABLES[name].columns:
            if col.is_list:
                got = df[col.name].map(lambda s: [] if pd.isna(s) else str(s).split("|"))
                # a list the generator leaves empty (None, e.g. organizations.identifiers) is an empty cell
                want = orig[col.name].map(lambda v: [] if v is None else list(v))
                assert got.tolist() == want.tolist(), (name, col.name)
            elif col.type == "DOUBLE":
                assert np.allclose(df[col.name].to_numpy(float), orig[col.name].to_numpy(float), equal_nan=True)
            elif col.type == "VARCHAR":
                assert df[col.name].fillna("").tolist() == orig[col.name].fillna("").tolist(), (name, col.name)


def test_write_rejects_unknown_format(tables, tmp_path):
    with pytest.raises(UsageError):
        write(tables, tmp_path, fmt="xlsx")


def test_iter_financials_csv_is_exact_and_reproducible(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    iter_financials_csv(a, rows=5000, seed=3, chunk_orgs=400)
    iter_financials_csv(b, rows=5000, seed=3, chunk_orgs=400)
    assert a.read_bytes() == b.read_bytes()
    df = pd.read_csv(a)
    assert len(df) == 5000 and list(df.columns) == TABLES["financials"].data_names + ["synthetic"]
    assert df.org_id.nunique() > 400  # more than one chunk, with ids continuing across chunks
    assert not df.duplicated(["org_id", "fiscal_year"]).any()
    pos = df[df.revenue > 0]
    assert (pos.revenue >= pos.rd_expense.fillna(0) / 100).all()


@pytest.mark.parametrize("kwargs", [
    {"years": (2013, date.today().year + 1)}, {"years": (2020, 2013)}, {"orgs": 0}, {"rounds_per_org": -1.0},
])
def test_bad_config_is_refused(kwargs):
    with pytest.raises(UsageError):
        SynthConfig(**kwargs)


def test_default_investor_count():
    assert SynthConfig(orgs=1_000_000).n_investors == 5000
    assert SynthConfig(orgs=100).n_investors == 50
    assert generate(SynthConfig(orgs=300, investors=7))["investors"].num_rows == 7


def test_universe_without_patents_or_rounds_still_has_every_table():
    t = generate(SynthConfig(orgs=200, patents_per_org=0, rounds_per_org=0))
    assert t["patents"].num_rows == 0 and t["funding_rounds"].num_rows == 0
    assert t["funding_rounds"].column_names == TABLES["funding_rounds"].data_names + ["synthetic"]
    assert pc.max(t["financials"].column("invention_patents")).as_py() == 0
