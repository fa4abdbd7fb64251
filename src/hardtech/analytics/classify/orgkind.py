"""What kind of organisation a record is, and whether it gets a typology at all.

The typology judges a business: how it competes (science-based product, engineering, business
model). A university, research institute, investor or government body has no such business, so
it gets no typology (issue 12: investors, universities and government bodies were typed and
inflated the hard & core count). The kind comes from the record when known (the store's
`organizations.kind`, a `kind` column in a file) and is otherwise read from the text with
conservative patterns that look at what the text says the organisation *is*: "X University
spin-out" and "源自中国科学院…研究所" stay companies.
"""

from __future__ import annotations

import re

# the store's organisation kinds (store/schema.py ORG_KINDS) plus `project`
KINDS = ("company", "startup", "project", "university", "institute", "investor", "government")
TYPED = frozenset({"company", "startup", "project"})
ALIASES = {"corporation": "company", "firm": "company", "enterprise": "company", "start-up": "startup",
           "research institute": "institute", "lab": "institute", "laboratory": "institute",
           "vc": "investor", "fund": "investor", "government_fund": "investor", "agency": "government",
           "公司": "company", "企业": "company", "初创": "startup", "项目": "project", "大学": "university",
           "高校": "university", "研究所": "institute", "研究院": "institute", "投资机构": "investor",
           "政府": "government"}

_COMPANY_WORDS = r"spin[- ]?(?:out|off)|start-?up|company|corporation|maker|manufacturer|developer of|firm that|founded by|incubated"
_EN_RULES = (
    ("investor", re.compile(
        r"^(?:[\w&.'’ -]{0,60}?\s)?(?:is\s+(?:an?|the)\s+)?(?:[\w-]+\s){0,3}(?:venture capital|private equity|"
        r"growth equity|venture|investment|asset management|hedge)\s+(?:firm|fund|company|manager|house|group)\b"
        r"|\b(?:we|it|which|that)\s+invests?\s+in\b|^[\w&.'’ -]{0,60}\bis an? (?:angel investor|accelerator|incubator)\b",
        re.I)),
    ("university", re.compile(
        r"^(?:the\s+)?(?:[\w.'’-]+\s){0,5}(?:university|college|polytechnic)\b(?:\s+of\s+[\w ]{2,40})?"
        r"(?:\s+(?:is|was|runs|has|in|at|,)|$)(?!.{0,20}(?:" + _COMPANY_WORDS + "))", re.I)),
    ("institute", re.compile(
        r"^(?:the\s+)?(?:[\w.'’-]+\s){0,6}(?:institute|laborator(?:y|ies)|national lab|research cent(?:re|er)|"
        r"academy of sciences)\b(?:\s+(?:of|for)\s+[\w ]{2,50})?(?:\s+(?:is|was|runs|has|in|at|,)|$)"
        r"(?!.{0,20}(?:" + _COMPANY_WORDS + "))", re.I)),
    ("government", re.compile(
        r"^(?:the\s+)?(?:[\w.'’-]+\s){0,5}(?:ministry|government agency|state agency|municipal government|"
        r"city government|bureau|regulator|department of [\w ]{2,40})\b(?!.{0,20}(?:" + _COMPANY_WORDS + "))",
        re.I)),
)
# words without which a rule cannot match (a cheap test before the pattern)
_EN_WORDS = {"investor": ("venture", "equity", "investment", "asset management", "hedge", "invest", "accelerator",
                          "incubator"),
             "university": ("university", "college", "polytechnic"),
             "institute": ("institute", "laborator", "national lab", "research cent", "academy of sciences"),
             "government": ("ministry", "government", "agency", "bureau", "regulator", "department of")}
# most texts name none of these words: substring tests of the lower-cased head settle it (str's
# `in` is several times faster than one regex alternation of the same words)
_EN_ALL_WORDS = tuple(w for ws in _EN_WORDS.values() for w in ws)
_HAN_HEAD = re.compile(r"[\u4e00-\u9fff]")
# Chinese: the subject is the text before the first verb of being/location or punctuation
_ZH_SUBJECT = re.compile(r"^(.{2,40}?)(?:是|为|位于|成立于|坐落|始建|创建于|创办于|，|,|。|（|\(|由|主要|以|隶属|下设|依托|承担|负责|主管|致力|专注|从事|设立|开展)")
_ZH_RULES = (
    ("university", re.compile(r"(?:大学|学院|高校)$")),
    ("institute", re.compile(r"(?:研究所|研究院|实验室|科学院|研究中心|工程中心)$")),
    ("investor", re.compile(r"(?:资本|创投|投资|基金|投资管理|资产管理)(?:有限公司|集团|合伙企业)?$")),
    ("government", re.compile(r"(?:政府|委员会|管委会|管理委员会|局|厅|部)$")),
)
_ZH_INVESTOR_TEXT = re.compile(r"(?:是|为)(?:一家|一支|国内)?.{0,12}(?:投资机构|创投机构|投资公司|投资平台|基金管理人|风险投资机构)"
                               r"|专注(?:于)?.{0,10}投资(?:和|与)?(?:孵化)?的(?:机构|平台)")


def normalise(kind: object) -> str | None:
    """A record's declared kind in our vocabulary; None when empty or unknown."""
    if kind is None or (isinstance(kind, float) and kind != kind):
        return None
    k = str(kind).strip().lower()
    if not k:
        return None
    if k in KINDS:
        return k
    return ALIASES.get(k)


def detect(text: str) -> str | None:
    """The kind a cleaned text says its subject is, or None (assume a company or project)."""
    if not text:
        return None
    head = text[:300]
    if _HAN_HEAD.search(head, 0, 40):
        m = _ZH_SUBJECT.match(head)
        subject = m.group(1) if m else head[:20]
        if re.search(r"公司|企业|集团|股份|团队|项目", subject):  # "…公司孵化自…研究所": a company
            return None
        for kind, rx in _ZH_RULES:
            if rx.search(subject):
                return kind
        if _ZH_INVESTOR_TEXT.search(head):
            return "investor"
        return None
    low = head.lower()
    if not any(map(low.__contains__, _EN_ALL_WORDS)):
        return None
    for kind, rx in _EN_RULES:
        # a plain substring test first: the patterns backtrack, and most texts name none of these words
        if any(map(low.__contains__, _EN_WORDS[kind])) and rx.search(head):
            return kind
    return None


def gets_typology(kind: str | None) -> bool:
    return kind is None or kind in TYPED
