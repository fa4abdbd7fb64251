"""Traditional and simplified twins classify alike: the same fields, typology and probabilities.

A description written in traditional characters (Hong Kong, Taiwan, older filings) must get the verdict
its simplified twin gets; the classifier folds traditional to simplified before any signal sees the text.
The twins below cover all eight fields, two phrases each, and go through the real shipped classifier, so
folding is checked where it matters (lexicon hits, segmentation, embeddings), not in a helper alone.
"""

from __future__ import annotations

import pytest

from hardtech.analytics.taxonomy import FIELD_IDS

# (field the phrase is about, simplified, traditional): the traditional forms differ character by character
TWINS = [
    ("ai", "人工智能深度学习算法与机器视觉大模型训练", "人工智能深度學習算法與機器視覺大模型訓練"),
    ("ai", "自动驾驶感知芯片与语音识别神经网络", "自動駕駛感知芯片與語音識別神經網絡"),
    ("aerospace", "商业运载火箭发动机与低轨卫星制造", "商業運載火箭發動機與低軌衛星製造"),
    ("aerospace", "航空发动机叶片与无人机飞控系统", "航空發動機葉片與無人機飛控系統"),
    ("photonics_chips", "半导体晶圆制造与积体电路设计", "半導體晶圓製造與積體電路設計"),
    ("photonics_chips", "硅光子激光器与光刻机镜头", "硅光子激光器與光刻機鏡頭"),
    ("biotech", "单克隆抗体药物与基因治疗研发", "單克隆抗體藥物與基因治療研發"),
    ("biotech", "创新药临床试验与细胞疗法", "創新藥臨牀試驗與細胞療法"),
    ("it", "云计算数据库与工业软件操作系统", "雲計算數據庫與工業軟件操作系統"),
    ("it", "网络安全与分布式存储服务器", "網絡安全與分佈式存儲服務器"),
    ("new_materials", "碳纤维复合材料与高性能陶瓷", "碳纖維複合材料與高性能陶瓷"),
    ("new_materials", "稀土永磁材料与特种合金冶炼", "稀土永磁材料與特種合金冶煉"),
    ("new_energy", "锂离子电池正极材料", "鋰離子電池正極材料"),
    ("new_energy", "光伏组件与氢燃料电池储能", "光伏組件與氫燃料電池儲能"),
    ("intelligent_manufacturing", "工业机器人与数控机床智能制造", "工業機器人與數控機牀智能製造"),
    ("intelligent_manufacturing", "高端装备柔性生产线与工业自动化控制", "高端裝備柔性生產線與工業自動化控制"),
]


def test_the_twins_cover_every_field_and_really_differ():
    assert {f for f, _, _ in TWINS} == set(FIELD_IDS)
    for _, simp, trad in TWINS:
        assert len(simp) == len(trad) and simp != trad
        assert sum(a != b for a, b in zip(simp, trad)) >= 2, trad


@pytest.fixture(scope="module")
def verdicts():
    from hardtech.analytics.classify.pipeline import load_classifier

    clf = load_classifier()
    texts = [t for _, simp, trad in TWINS for t in (simp, trad)]
    results = clf.classify([{"text": t} for t in texts])
    return dict(zip(texts, results))


@pytest.mark.parametrize("field, simp, trad", TWINS, ids=[f"{f}-{i % 2}" for i, (f, _, _) in enumerate(TWINS)])
def test_traditional_and_simplified_twins_get_the_same_verdict(verdicts, field, simp, trad):
    a, b = verdicts[simp], verdicts[trad]
    assert [x["field"] for x in a["fields"]] == [x["field"] for x in b["fields"]], (a["fields"], b["fields"])
    assert a["typology"] == b["typology"]
    for f in FIELD_IDS:
        assert b["field_probabilities"][f] == pytest.approx(a["field_probabilities"][f], abs=1e-6), f
    # not two equal non-answers: the phrase is recognised as its field
    assert field in [x["field"] for x in a["fields"]], a["fields"]


def test_mixed_scripts_in_one_description_fold_too(verdicts):
    """A filing that mixes the scripts (a traditional name, a simplified description) reads as one text."""
    from hardtech.analytics.classify.pipeline import load_classifier

    clf = load_classifier()
    mixed = "鋰離子電池正極材料与光伏组件储能"
    simp = "锂离子电池正极材料与光伏组件储能"
    a, b = clf.classify([{"text": simp}, {"text": mixed}])
    assert [x["field"] for x in a["fields"]] == [x["field"] for x in b["fields"]]
    assert b["field_probabilities"]["new_energy"] == pytest.approx(a["field_probabilities"]["new_energy"], abs=1e-6)
