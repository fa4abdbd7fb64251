"""Behaviour of the taxonomy data files and their loader (hardtech.analytics.taxonomy)."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from hardtech.analytics import taxonomy as tx
from hardtech.analytics.taxonomy import (
    FIELD_IDS,
    SCHEMES,
    TYPOLOGY_IDS,
    load_taxonomy,
    normalize_patent_code,
)
from hardtech.errors import ParseError, SourceError, UsageError

from conftest import shared_file  # one rule for third-party data: skip locally, fail under CI=true

PACKAGE_DATA = Path(tx.__file__).resolve().parents[1] / "data"
CONCORDANCES = PACKAGE_DATA / "concordances"




def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def tax() -> tx.Taxonomy:
    return load_taxonomy()


# --------------------------------------------------------------------------- fields and typology


def test_ids_and_version(tax):
    assert FIELD_IDS == ("ai", "aerospace", "photonics_chips", "biotech", "it", "new_materials",
                         "new_energy", "intelligent_manufacturing")
    assert TYPOLOGY_IDS == ("hard_core", "deep", "black", "high", "model_innovation")
    assert tuple(tax.fields) == FIELD_IDS
    assert tuple(tax.typology) == TYPOLOGY_IDS
    assert tax.version == "2026.11"


@pytest.mark.parametrize("field_id", FIELD_IDS)
def test_field_is_bilingual_with_rich_lexicons(tax, field_id):
    f = tax.fields[field_id]
    assert f.name_en and f.name_zh and f.description_en and f.description_zh
    assert any("\u4e00" <= ch <= "\u9fff" for ch in f.name_zh + f.description_zh)
    assert 40 <= len(f.keywords_en) <= 80
    assert 40 <= len(f.keywords_zh) <= 80
    assert all(k == k.lower() for k in f.keywords_en + f.negative_keywords_en)
    assert f.negative_keywords_en and f.negative_keywords_zh
    assert not set(f.keywords_en) & set(f.negative_keywords_en)
    assert not set(f.keywords_zh) & set(f.negative_keywords_zh)
    assert 4 <= len(f.subfields) <= 10
    assert all(s.id and s.name_en and s.name_zh for s in f.subfields)
    assert f.star_category in tax.star_categories


def test_expected_terms_sit_in_the_right_field(tax):
    zh = {fid: set(f.keywords_zh) for fid, f in tax.fields.items()}
    assert {"光刻机", "晶圆", "碳化硅"} <= zh["photonics_chips"]
    assert "靶向药" in zh["biotech"] and "锂电池" in zh["new_energy"] and "钙钛矿" in zh["new_energy"]
    assert "工业机器人" in zh["intelligent_manufacturing"] and "大模型" in zh["ai"]
    assert "solar panel installer" in tax.fields["new_energy"].negative_keywords_en
    assert "drone retailer" in tax.fields["aerospace"].negative_keywords_en


def test_no_keyword_is_claimed_by_two_fields(tax):
    for lang in ("en", "zh"):
        seen: dict[str, str] = {}
        for f in tax.fields.values():
            for k in getattr(f, f"keywords_{lang}"):
                assert k not in seen, f"{k!r} in both {seen[k]} and {f.id}"
                seen[k] = f.id


def test_typology_criteria_are_on_their_scales(tax):
    for c in tax.typology.values():
        assert c.name_en and c.name_zh and c.definition_en and c.definition_zh
        assert c.examples_en and c.examples_zh and c.cues_en and c.cues_zh
        for name, scale in tax.criteria_scales.items():
            assert c.criteria[name] in scale, (c.id, name)
        lo, hi = c.criteria["trl_min"], c.criteria["trl_max"]
        assert (lo is None and hi is None) or 1 <= lo <= hi <= 9
    t = tax.typology
    assert t["model_innovation"].criteria["physical_world"] == "virtual"
    assert t["hard_core"].criteria["physical_world"] == "physical"
    assert "consumer quadcopter drones" in t["high"].examples_en
    assert "外卖" in t["model_innovation"].cues_zh and "reusable rocket" in t["deep"].cues_en
    scale = tax.criteria_scales["imitation_barrier"]
    barrier = {cid: scale.index(t[cid].criteria["imitation_barrier"]) for cid in ("hard_core", "high")}
    assert barrier["hard_core"] > barrier["high"]


def test_trl_levels_and_cues(tax):
    assert sorted(tax.trl_levels) == list(range(1, 10))
    assert tax.trl_levels[3].name_en == "experimental proof of concept"
    cues = {(c.lang, c.cue): (c.trl_min, c.trl_max) for c in tax.trl_cues}
    assert cues[("en", "mass production")] == (9, 9)
    assert cues[("zh", "量产")] == (9, 9)
    assert cues[("en", "proof of concept")] == (3, 3)
    assert cues[("en", "pilot line")] == (6, 7)
    assert cues[("en", "no product yet")][1] <= 4


# --------------------------------------------------------------------------- patent codes


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("G06N 3/08", "G06N3/08"),
        ("G06N0003/08", "G06N3/08"),
        ("g06n3/08", "G06N3/08"),
        ("G06N   3/08", "G06N3/08"),
        ("G06N0003080000", "G06N3/08"),
        ("C12Q-0001/6883", "C12Q1/6883"),
        ("B29C-047/00", "B29C47/00"),
        ("H01L 21/027 (2006.01)", "H01L21/027"),
        ("A61K 8/", "A61K8"),
        ("B64G", "B64G"),
        ("G06", "G06"),
        ("Ｇ０６Ｎ３／０８", "G06N3/08"),
    ],
)
def test_normalize_patent_code(raw, expected):
    assert normalize_patent_code(raw) == expected


@pytest.mark.parametrize("garbage", ["", "hello", "123", "G6N3/08", "Z01B1/00", "G06N3/08/09", "G06N12345/1"])
def test_normalize_patent_code_rejects_garbage(garbage):
    with pytest.raises(ParseError) as exc:
        normalize_patent_code(garbage)
    assert exc.value.value == garbage


def test_normalize_patent_code_rejects_non_text():
    with pytest.raises(ParseError):
        normalize_patent_code(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "code, field_id",
    [
        ("G06N3/08", "ai"),
        ("H01L21/027", "photonics_chips"),
        ("H01M10/0525", "new_energy"),
        ("B64G1/00", "aerospace"),
        ("B33Y10/00", "intelligent_manufacturing"),
        ("B25J9/16", "intelligent_manufacturing"),
        ("C12N15", "biotech"),
        ("C01B32/182", "new_materials"),
        ("G06V10/82", "ai"),
        ("H04W72/23", "it"),
        ("F03D1/00", "new_energy"),
    ],
)
def test_patent_code_top_field(tax, code, field_id):
    matches = tax.map_code("cpc", code)
    assert matches and matches[0].field_id == field_id
    assert tax.map_code("ipc", code)[0].field_id == field_id


def test_longest_prefix_wins_and_may_return_several_fields(tax):
    m = tax.map_code("cpc", "G06N 3/08")
    assert [(x.field_id, x.rule, x.code) for x in m] == [("ai", "G06N3", "G06N3/08")]
    # G06T7 (image analysis) is refined to ai; its sibling G06T5 keeps the coarse WIPO mapping
    assert tax.map_code("cpc", "G06T7/11")[0].field_id == "ai"
    assert {x.field_id for x in tax.map_code("cpc", "G06T5/70")} == {"it"}
    assert tax.map_code("cpc", "H04B7/18513")[0].rule == "H04B7/185"
    assert {x.field_id for x in tax.map_code("cpc", "B25J9/1697")} == {"intelligent_manufacturing", "ai"}
    quantum = tax.map_code("cpc", "G06N10/00")
    assert quantum[0].field_id == "it" and quantum[0].typology_hint == "deep"
    weights = [x.weight for x in tax.map_code("cpc", "H01L31/0216")]
    assert weights == sorted(weights, reverse=True)


def test_none_rows_are_known_but_map_to_nothing(tax):
    assert tax.map_code("cpc", "A61K8/02") == []  # cosmetics, overriding WIPO pharmaceuticals-adjacent rows
    assert tax.known("cpc", "A61K8/02")
    assert tax.map_code("cpc", "A23L2/00") == [] and tax.known("cpc", "A23L2/00")
    assert tax.map_code("gics", "Restaurants") == [] and tax.sector("gics", "Restaurants") == "tertiary"


def test_wipo_rows_are_capped_and_cited():
    rows = read_csv_rows(CONCORDANCES / "ipc_cpc.csv")
    wipo = [r for r in rows if r["source"].startswith("WIPO IPC-technology concordance (Schmoch) field ")]
    assert len(wipo) > 500
    assert all(float(r["weight"]) <= 0.6 for r in wipo)
    refined = [r for r in rows if not r["source"].startswith("WIPO")]
    assert any(float(r["weight"]) > 0.6 for r in refined)


@pytest.mark.shared
def test_every_wipo_ipc_code_is_covered(tax):
    import pandas as pd

    wipo = pd.read_csv(shared_file("wipo_ipc_technology_concordance.csv"))
    assert wipo["Field_number"].nunique() == 35
    missing = [c for c in wipo["IPC_code"] if not tax.known("ipc", c.replace("%", ""))]
    assert missing == []


@pytest.mark.shared
def test_real_patent_files_land_in_their_field(tax):
    import pandas as pd

    def share(path: Path, column: str, field_id: str) -> float:
        codes = pd.read_csv(path)[column].dropna()
        hits = [any(m.field_id == field_id for c in s.split("|") if c.strip()
                    for m in tax.map_code("cpc", c.strip())) for s in codes]
        return sum(hits) / len(hits)

    assert share(shared_file("patents_3dprinting_us_cn_312.csv"), "Original IPC All", "intelligent_manufacturing") > 0.9
    assert share(shared_file("patents_stemcell_us_761.csv"), "Original IPC All", "biotech") > 0.9
    # the AI set was found by keyword search, so many patents carry no AI class: a majority is enough
    assert share(shared_file("patents_ai_cpc_sample3000.csv"), "cpc_codes", "ai") > 0.6


# --------------------------------------------------------------------------- other schemes


def test_activity_codes_and_oecd_groups(tax):
    assert tax.map_code("isic", "3030")[0].field_id == "aerospace"
    assert tax.oecd_intensity("isic", "3030") == "high"
    assert tax.oecd_intensity("nace", "26.11") == "high"
    assert tax.map_code("nace", "C26.11")[0].field_id == "photonics_chips"
    assert tax.oecd_intensity("isic", "2910") == "medium_high"
    assert tax.oecd_intensity("nace", "5829") == "high"  # falls back to 582 software publishing
    assert tax.oecd_intensity("isic", "62-63") == "medium_high"
    assert tax.oecd_intensity("isic", "301") == "medium"
    assert tax.map_code("nace", "7211")[0].field_id == "biotech"
    assert tax.map_code("isic", "7210") == []  # R&D in general: field unknown
    assert tax.sector("isic", "4711") == "tertiary" and tax.sector("nace", "2611") == "secondary"
    assert tax.oecd_intensity("gics", "Semiconductors") is None


def test_every_activity_row_has_an_oecd_group():
    rows = read_csv_rows(CONCORDANCES / "nace_isic.csv")
    assert all(r["oecd_intensity"] in tx.OECD_INTENSITY for r in rows)
    codes = {r["code"] for r in rows}
    assert {f"{d:02d}" for d in range(10, 34)} <= codes
    assert {"35", "58", "59", "60", "61", "62", "63", "72"} <= codes
    unsure = [r for r in rows if r["code"] in ("22", "31", "35") and "[check]" not in r["reason"]]
    assert unsure == []


def test_name_schemes(tax):
    assert tax.map_code("gics", "semiconductors")[0].field_id == "photonics_chips"
    assert tax.map_code("cn_industry", "半导体")[0].field_id == "photonics_chips"
    assert tax.sector("cn_industry", "银行") == "tertiary"
    assert tax.sector("cn_industry", "专用机械") == "secondary"
    assert tax.map_code("cn_industry", "空运") == []
    assert tax.map_code("nbs_sei", "1.2")[0].field_id == "photonics_chips"
    by_name = tax.map_code("nbs_sei", "电子核心产业") + tax.map_code("nbs_sei", "core electronics")
    assert {(m.field_id, m.rule) for m in by_name} == {("photonics_chips", "1.2")}
    assert tax.map_code("nbs_hightech", "航空、航天器及设备制造业")[0].field_id == "aerospace"
    drones = tax.map_code("crunchbase", "Drones")
    assert drones[0].field_id == "aerospace" and tax.typology_hint("crunchbase", "drones") == "high"
    # "hardware" is both a category and a group; with no category row the group answers
    assert tax.map_code("crunchbase", "hardware") == tax.map_code("crunchbase", "group:hardware") != []
    assert tax.map_code("crunchbase", "category:hardware") == []
    assert tax.typology_hint("unicorn_industry", "Fintech") == "model_innovation"
    assert tax.map_code("unicorn_industry", "Artificial Intelligence")[0].field_id == "ai"
    assert tax.map_code("gics", "No Such Sub-Industry") == [] and not tax.known("gics", "No Such Sub-Industry")


def test_map_codes_and_field_scores(tax):
    matches = tax.map_codes(["cpc:G06N3/08", "gics:Semiconductors", "cn_industry: 生物制药 "])
    assert [m.scheme for m in matches] == ["cpc", "gics", "cn_industry"]
    assert [m.field_id for m in matches] == ["ai", "photonics_chips", "biotech"]
    scores = tax.field_scores(["cpc:B25J9/16", "crunchbase:robotics"])
    assert scores["intelligent_manufacturing"] == 0.95 and scores["ai"] == 0.4
    with pytest.raises(UsageError):
        tax.map_codes(["G06N3/08"])


@pytest.mark.parametrize("method", ["map_code", "sector", "oecd_intensity", "typology_hint", "known"])
def test_unknown_scheme_raises(tax, method):
    with pytest.raises(UsageError, match="unknown classification scheme"):
        getattr(tax, method)("sic", "3674")


def test_every_scheme_answers(tax):
    samples = {"cpc": "G06N", "ipc": "G06N", "nace": "26", "isic": "26", "gics": "Biotechnology",
               "cn_industry": "软件服务", "nbs_sei": "1", "nbs_hightech": "1", "crunchbase": "semiconductor",
               "unicorn_industry": "Cybersecurity"}
    assert set(samples) == set(SCHEMES)
    for scheme, code in samples.items():
        assert tax.map_code(scheme, code), scheme


# --------------------------------------------------------------------------- coverage of real vocabularies


@pytest.mark.shared
def test_every_ashare_industry_has_a_row():
    import pandas as pd

    industries = set(pd.read_csv(shared_file("cn_ashare_listed_2019.csv"), dtype=str)["industry"].dropna())
    rows = read_csv_rows(CONCORDANCES / "cn_industry.csv")
    assert industries - {r["name"] for r in rows} == set()
    assert all(r["sector"] in ("primary", "secondary", "tertiary") for r in rows)


@pytest.mark.shared
def test_every_crunchbase_group_and_unicorn_industry_has_a_row(tax):
    import pandas as pd

    groups = pd.read_csv(shared_file("crunchbase_category_groups.csv"))["category_group_list"].dropna()
    names = {g for s in groups for g in s.split("|")}
    rows = read_csv_rows(CONCORDANCES / "crunchbase.csv")
    assert names - {r["name"] for r in rows if r["kind"] == "group"} == set()
    industries = set(pd.read_csv(shared_file("unicorns_2022.csv"))["Industry"].dropna())
    assert [i for i in industries if not tax.known("unicorn_industry", i)] == []


@pytest.mark.shared
def test_every_gics_sub_industry_has_a_row(tax):
    import pandas as pd

    subs = set(pd.read_csv(shared_file("sp500_constituents_gics.csv"))["GICS Sub-Industry"].dropna())
    subs |= set(pd.read_csv(shared_file("nyse_securities_gics.csv"))["GICS Sub Industry"].dropna())
    assert [s for s in sorted(subs) if not tax.known("gics", s)] == []


def test_every_concordance_uses_known_ids_and_gives_reasons():
    files = sorted(CONCORDANCES.glob("*.csv"))
    assert {f.name for f in files} >= {"ipc_cpc.csv", "nace_isic.csv", "gics.csv", "cn_industry.csv",
                                       "nbs_sei_2018.csv", "nbs_hightech_2017.csv", "crunchbase.csv"}
    for path in files:
        for row in read_csv_rows(path):
            assert row["field_id"] in FIELD_IDS + ("none",), (path.name, row)
            assert row["reason"].strip(), (path.name, row)
            if row.get("typology_hint"):
                assert row["typology_hint"] in TYPOLOGY_IDS, (path.name, row)


# --------------------------------------------------------------------------- loading and errors


def test_load_is_cached():
    """Loaded once per process (its cold time is measured in benchmarks/bench_parsers.py)."""
    assert load_taxonomy() is load_taxonomy()
    load_taxonomy.cache_clear()
    assert load_taxonomy() is load_taxonomy()


@pytest.fixture
def data_copy(tmp_path) -> Path:
    shutil.copytree(PACKAGE_DATA / "taxonomy", tmp_path / "taxonomy")
    shutil.copytree(PACKAGE_DATA / "concordances", tmp_path / "concordances")
    return tmp_path


def test_copied_directory_loads(data_copy):
    copy = load_taxonomy(data_copy)
    assert copy is not load_taxonomy() and copy.version == "2026.11"
    assert copy.map_code("cpc", "B64G1/00")[0].field_id == "aerospace"


def test_malformed_yaml_names_file_and_line(data_copy):
    path = data_copy / "taxonomy" / "fields.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(10, "  broken: [unclosed")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(SourceError, match=r"fields\.yaml: line \d+"):
        load_taxonomy(data_copy)


def test_missing_key_names_file_and_field(data_copy):
    path = data_copy / "taxonomy" / "typology.yaml"
    text = path.read_text(encoding="utf-8").replace("    name_zh: 黑科技\n", "", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceError, match=r"typology\.yaml.*id=black.*name_zh"):
        load_taxonomy(data_copy)


def test_upper_case_english_keyword_is_rejected(data_copy):
    path = data_copy / "taxonomy" / "fields.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("- machine learning\n", "- Machine Learning\n", 1),
                    encoding="utf-8")
    with pytest.raises(SourceError, match="lower case"):
        load_taxonomy(data_copy)


def test_version_mismatch_is_rejected(data_copy):
    path = data_copy / "taxonomy" / "typology.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('version: "2026.11"', 'version: "2027.01"', 1),
                    encoding="utf-8")
    with pytest.raises(SourceError, match="version"):
        load_taxonomy(data_copy)


@pytest.mark.parametrize(
    "file_name, bad_line, message",
    [
        ("gics.csv", "Widgets,robotics,0.5,secondary,,typo in field id", "unknown field_id 'robotics'"),
        ("gics.csv", "Widgets,it,1.5,secondary,,too heavy", "weight"),
        ("gics.csv", "Widgets,none,0.3,secondary,,none must weigh 0", "weight 0"),
        ("ipc_cpc.csv", "XYZ,it,0.5,not a code,test,", "not an IPC/CPC"),
        ("cn_industry.csv", "半导体,photonics_chips,0.5,secondary,,duplicate", "duplicate"),
        ("crunchbase.csv", "tag,ai,ai,0.5,tertiary,,bad kind", "kind"),
        ("nace_isic.csv", "both,26,ai,0.5,very_high,secondary,,bad group", "oecd_intensity"),
    ],
)
def test_malformed_csv_names_file_and_line(data_copy, file_name, bad_line, message):
    path = data_copy / "concordances" / file_name
    n_lines = len(path.read_text(encoding="utf-8").splitlines())
    with path.open("a", encoding="utf-8") as fh:
        fh.write(bad_line + "\n")
    with pytest.raises(SourceError) as exc:
        load_taxonomy(data_copy)
    text = str(exc.value)
    assert file_name in text and f"line {n_lines + 1}" in text and message in text


def test_missing_concordance_file_is_a_source_error(data_copy):
    (data_copy / "concordances" / "gics.csv").unlink()
    with pytest.raises(SourceError, match="gics.csv"):
        load_taxonomy(data_copy)
