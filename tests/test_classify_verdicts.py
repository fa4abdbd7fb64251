"""Speed work must not change a verdict: the default model's full output on a fixed sample of real
texts is compared with the output recorded before the change.

The sample: every 50th patent of the 31k file (title. abstract, with its CPC codes), every 7th YC
company (one-liner alone, then the long description) and every 2nd IT桔子 company (公司简介), all read
from ../shared/data (those texts may not ship: the fixture keeps only a hash of each text and its
verdict). Plus short texts of our own that exercise the empty, thin and gated paths.

The fixture is tied to one model version: after the default model is rebuilt it is re-recorded with
the code that produced the old fixture's outputs, so the comparison keeps meaning "the code path
changed nothing". Record with:

    PYTHONPATH=src python tests/test_classify_verdicts.py --record
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).parent / "fixtures" / "classify_verdicts.json"

OWN = ["", "   ", "Bytedance", "深度求索", "AI", "芯片", "A seed-stage venture capital fund investing in robotics.",
       "Tsinghua University, department of physics.", "国家发展和改革委员会",
       "Consumer quadcopter drones for aerial photography", "消费级四旋翼无人机",
       "可折叠的自拍四旋翼无人机，能装进口袋并自动跟随拍摄。", "手机一键叫车", "One-tap ride hailing on your phone",
       "We distribute semiconductors from Texas Instruments to factories in Shenzhen.",
       "Solid-state lithium batteries with a sulfide electrolyte for electric vehicles. TRL 6 pilot line."]


def sample(shared_file) -> list:
    import pandas as pd

    recs: list = []
    p = pd.read_csv(shared_file("patents_ai_cpc_31k.csv"), dtype=str, keep_default_na=False)
    for r in p.iloc[::50].itertuples():
        text = f"{r.title}. {r.abstract}" if r.title and r.abstract else (r.title or r.abstract)
        recs.append({"text": text, "codes": [f"cpc:{c.strip()}" for c in re.split(r"[,|]", r.cpc_codes) if c.strip()]})
    yc = pd.read_csv(shared_file("yc_companies_half.csv"), dtype=str, keep_default_na=False)
    for r in yc.iloc[::7].itertuples():
        recs.append(r.one_liner)
        recs.append(f"{r.name}. {r.long_description}")
    it = pd.read_csv(shared_file("itjuzi_ai_companies_half.csv"), dtype=str, keep_default_na=False)
    it = it[it["公司简介"] != ""]
    recs += [f"{n}。{d}" for n, d in zip(it["公司名称"].iloc[::2], it["公司简介"].iloc[::2])]
    return recs + OWN


def key(rec) -> str:
    s = json.dumps(rec, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(s.encode()).hexdigest()[:16]


def verdicts(recs) -> list:
    from hardtech.analytics.classify import load_classifier

    return load_classifier().classify(recs)


def test_the_default_model_gives_the_recorded_verdicts(shared):
    from hardtech.analytics.classify import load_classifier

    want = json.loads(FIXTURE.read_text())
    if want["model"] != load_classifier().version_:
        pytest.fail(f"fixture recorded for {want['model']}, the default model is {load_classifier().version_}: "
                    f"re-record it (see this file's docstring)")
    recs = sample(shared)
    assert [key(r) for r in recs] == want["keys"], "the sample's texts changed"
    got = verdicts(recs)
    diffs = [(i, g, w) for i, (g, w) in enumerate(zip(got, want["verdicts"])) if g != w]
    assert not diffs, f"{len(diffs)} of {len(recs)} verdicts changed; first: {diffs[0]}"
    assert len(got) == len(want["verdicts"]) > 1000


if __name__ == "__main__" and "--record" in sys.argv:
    sys.path.insert(0, str(Path(__file__).parent))
    from conftest import shared_file

    from hardtech.analytics.classify import load_classifier

    recs = sample(shared_file)
    out = {"model": load_classifier().version_, "n": len(recs), "keys": [key(r) for r in recs],
           "verdicts": verdicts(recs)}
    FIXTURE.write_text(json.dumps(out, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"recorded {len(recs)} verdicts of {out['model']} in {FIXTURE}")
