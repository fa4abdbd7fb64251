"""Organisation names made comparable, in Chinese and English.

Entity resolution compares names at several strengths, so one name yields several keys:

- `norm`  — folded (full-width → half-width, traditional → simplified, lower case, punctuation
  → space) with its legal form dropped: "Huawei Technologies Co., Ltd." → "huawei technologies";
  "華為技術有限公司" → "华为技术";
- `core`  — `norm` without descriptors of the group's form (Technologies, Holdings, Group, 科技,
  集团 …) and without parenthesised qualifiers ("腾讯科技（深圳）" → "腾讯"): what a name says
  the organisation is called;
- `brand` — `core` without leading place names and generic industry words: the distinctive part
  ("Zhengzhou Yutong Bus" → "yutong", "潍柴动力" → "潍柴"); none for universities and institutes,
  whose place is part of the name (西安交通大学 ≠ 上海交通大学), and none when nothing distinctive
  is left ("上海电气" → none: "电气" names no one);
- `roman_core` / `roman_brand` — Chinese names romanised (pinyin, with generic words translated:
  "潍柴动力" → "weichai power"), Latin names as they are, so a Chinese and an English name can meet.

Keys are compared without spaces ("Kuang-Chi" = "KuangChi"). Every word list is data
(`data/resolve/names.toml`, versioned); this module holds no company name.

A rule for reading what sources write, like dates and money, so it sits in `sources/`: the store's
resolution steps (`store/resolve/`) and the services both use it without importing upward.
"""

from __future__ import annotations

import functools
import re
import tomllib
import unicodedata
from dataclasses import dataclass
from importlib import resources

from hardtech.sources.text import CJK, clean

_ACRONYM = re.compile(r"(?<![a-z0-9])((?:[a-z]\.){2,})")
_APOS = re.compile(r"['’`´]")
_PUNCT = re.compile(r"[^\w\u3400-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af()]+")
_PAREN = re.compile(r"\([^()]*\)")
_SPACE = re.compile(r"\s+")
_LATIN = re.compile(r"[a-z]")
_LATIN_MARKS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")
_DANGLING = frozenset({"and", "of", "the", "for"})
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")


@dataclass(frozen=True)
class OrgName:
    """The comparison keys of one organisation name (see the module docstring)."""

    raw: str
    script: str  # "cjk" (Chinese characters), "latin", "other" (kana, hangul, …) or "" for empty
    norm: str
    core: str
    brand: str | None
    roman_core: str | None
    roman_brand: str | None
    tokens: tuple[str, ...]  # tokens of `core` (Latin words; for Chinese, the core itself)
    institution: str | None  # "university", "institute" or "government" when the name says so

    @staticmethod
    def key(text: str | None) -> str | None:
        """A key as compared: spaces removed, None for empty."""
        if not text:
            return None
        k = text.replace(" ", "")
        return k or None


@dataclass(frozen=True)
class NameRules:
    version: str
    legal_latin: "PhraseSet"
    legal_cjk: "WordSet"
    legal_cjk_leading: "WordSet"
    articles: frozenset[str]
    desc_latin: "PhraseSet"
    desc_cjk: "WordSet"
    generic_latin: frozenset[str]
    generic_cjk: "WordSet"
    institutions: dict[str, tuple[str, ...]]
    romanise: dict[str, str]
    places_latin: frozenset[tuple[str, ...]]
    places_cjk: "WordSet"
    place_lengths: tuple[int, ...] = ()
    romanise_words: "WordSet | None" = None
    institution_res: tuple[tuple[str, re.Pattern], ...] = ()
    home_suffixes: frozenset[str] = frozenset()
    domestic: frozenset[str] = frozenset()


def _fold_text(text: str) -> str:
    s = unicodedata.normalize("NFKC", clean(text)).lower()
    if not s.isascii():  # Latin diacritics go (Nestlé → nestle, beschränkter → beschrankter); CJK is untouched
        s = unicodedata.normalize("NFKC", _LATIN_MARKS.sub("", unicodedata.normalize("NFKD", s)))
    s = s.replace("&", " and ").replace("+", " and ")
    s = _APOS.sub("", s)
    s = _ACRONYM.sub(lambda m: m.group(1).replace(".", ""), s)
    s = _PUNCT.sub(" ", s).replace("_", " ")
    return _SPACE.sub(" ", s).strip()


def _phrases(items) -> "PhraseSet":
    return PhraseSet({tuple(_fold_text(x).split()) for x in items})


@functools.lru_cache(maxsize=1)
def load_name_rules() -> NameRules:
    """The word lists of `data/resolve/names.toml` and the place names of the region reference."""
    path = resources.files("hardtech.data") / "resolve" / "names.toml"
    with open(str(path), "rb") as f:
        d = tomllib.load(f)
    places_latin, places_cjk, domestic = _place_names()
    inst = {k: tuple(_fold_text(w) for w in v) for k, v in d["institutions"].items()}
    inst_res = []
    for kind in ("university", "institute", "government"):
        latin = [re.escape(w) for w in inst.get(kind, ()) if not CJK.search(w)]
        cjk = [re.escape(w) for w in inst.get(kind, ()) if CJK.search(w)]
        parts = ([rf"(?<![a-z])(?:{'|'.join(latin)})(?![a-z])"] if latin else []) + (["|".join(cjk)] if cjk else [])
        inst_res.append((kind, re.compile("|".join(parts))))
    romanise_map = {_fold_text(k): _fold_text(v) for k, v in d["romanise"].items()}
    return NameRules(
        version=str(d["version"]),
        legal_latin=_phrases(d["legal_forms"]["latin"]),
        legal_cjk=WordSet(_fold_text(x).replace(" ", "") for x in d["legal_forms"]["cjk"]),
        legal_cjk_leading=WordSet([_fold_text(x).replace(" ", "") for x in d["legal_forms"]["cjk_leading"]]
                                  + [_fold_text(x).replace(" ", "") for x in d["legal_forms"].get("status_prefixes", [])]),
        articles=frozenset(d["legal_forms"]["leading_articles"]),
        desc_latin=_phrases(d["descriptors"]["latin"]),
        desc_cjk=WordSet(_fold_text(x) for x in d["descriptors"]["cjk"]),
        generic_latin=frozenset(_fold_text(x) for x in d["generic"]["latin"]),
        generic_cjk=WordSet(_fold_text(x) for x in d["generic"]["cjk"]),
        institutions=inst,
        romanise=romanise_map,
        places_latin=places_latin,
        places_cjk=WordSet(places_cjk),
        place_lengths=tuple(sorted({len(p) for p in places_latin}, reverse=True)),
        romanise_words=WordSet(romanise_map),
        institution_res=tuple(inst_res),
        home_suffixes=frozenset(d["places"]["home_suffixes"]),
        domestic=frozenset(domestic),
    )


def _place_names() -> tuple[frozenset[tuple[str, ...]], set[str], set[str]]:
    """Countries, Chinese provinces and cities from the project's region reference (with and
    without 省/市, short forms such as 内蒙), so "北京百度网讯" and "Zhengzhou Yutong" lose their place."""
    from hardtech.sources.places import region_reference

    latin, cjk, domestic = set(), set(), set()
    for r in region_reference():
        home = str(r.get("region_id") or "").startswith("CN")
        for n in [r.get("name_en"), r.get("name_zh"), *(r.get("aliases") or [])]:
            if not n:
                continue
            f = _fold_text(n)
            if not f:
                continue
            if home:
                domestic.add(f.replace(" ", ""))
                for suf in ("省", "市", "自治区", "特别行政区"):
                    if f.endswith(suf) and len(f) - len(suf) >= 2:
                        domestic.add(f[: -len(suf)])
            if CJK.search(f):
                f = f.replace(" ", "")
                if len(f) >= 2:
                    cjk.add(f)
                for suf in ("省", "市", "自治区", "特别行政区"):
                    if f.endswith(suf) and len(f) - len(suf) >= 2:
                        cjk.add(f[: -len(suf)])
            elif _LATIN.search(f):
                latin.add(tuple(f.split()))
    cjk.update({"中国", "中华"})
    latin.update({("china",), ("chinese",), ("prc",)})
    domestic.update({"中国", "中华", "china", "prc"})
    return frozenset(latin), cjk, domestic


def _drop_home_brackets(text: str, rules: NameRules) -> str:
    """Remove bracketed Chinese places ("腾讯科技（深圳）", "Tencent Technology (Shenzhen)": where the company is
    registered); keep any other bracket's words ("百度（美国）" is Baidu's US company, "(Group Power)" a unit)."""
    def repl(m: re.Match) -> str:
        inner = m.group(0)[1:-1].strip()
        return " " if inner.replace(" ", "") in rules.domestic else " " + inner + " "
    return _SPACE.sub(" ", _PAREN.sub(repl, text)).strip()


def _strip_trailing_phrases(tokens: list[str], phrases: "PhraseSet", keep: int = 1) -> list[str]:
    changed = True
    while changed and len(tokens) > keep:
        changed = False
        for n in phrases.lengths:
            if len(tokens) - n >= keep and tuple(tokens[-n:]) in phrases.items:
                tokens, changed = tokens[:-n], True
                break
    return tokens


def _remove_phrases(tokens: list[str], phrases: "PhraseSet") -> list[str]:
    out, i = [], 0
    while i < len(tokens):
        for n in phrases.lengths:
            if tuple(tokens[i:i + n]) in phrases.items:
                i += n
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


class PhraseSet:
    """Token sequences looked up by length (legal forms, descriptors)."""

    def __init__(self, phrases):
        self.items = frozenset(p for p in phrases if p)
        self.lengths = tuple(sorted({len(p) for p in self.items}, reverse=True))

    def __iter__(self):
        return iter(self.items)


class WordSet:
    """Words looked up by length: stripping a prefix or suffix is a few set lookups, not a scan."""

    def __init__(self, words):
        self.words = frozenset(w for w in words if w)
        self.lengths = tuple(sorted({len(w) for w in self.words}, reverse=True))

    def __contains__(self, w: str) -> bool:
        return w in self.words

    def strip_suffixes(self, s: str, min_left: int) -> tuple[str, list[str]]:
        taken = []
        changed = True
        while changed:
            changed = False
            for n in self.lengths:
                if len(s) - n >= min_left and s[-n:] in self.words:
                    taken.insert(0, s[-n:])
                    s, changed = s[:-n].rstrip(), True
                    break
        return s, taken

    def strip_suffixes_once(self, s: str, min_left: int) -> tuple[str, str | None]:
        for n in self.lengths:
            if len(s) - n >= min_left and s[-n:] in self.words:
                return s[:-n].rstrip(), s[-n:]
        return s, None

    def strip_prefixes(self, s: str, min_left: int) -> tuple[str, list[str]]:
        taken = []
        changed = True
        while changed:
            changed = False
            for n in self.lengths:
                if len(s) - n >= min_left and s[:n] in self.words:
                    taken.append(s[:n])
                    s, changed = s[n:].lstrip(), True
                    break
        return s, taken


def _institution(folded: str, rules: NameRules) -> str | None:
    """The kind a name states: in Chinese the last institution word is the head noun (中国科学院大学 is a
    university, 中国科学院自动化研究所 an institute); in English the first one is (Institute of Technology)."""
    cjk = CJK.search(folded) is not None
    best = None
    for kind, rx in rules.institution_res:
        for m in rx.finditer(folded):
            pos = m.start()
            if best is None or (pos > best[0] if cjk else pos < best[0]):
                best = (pos, kind)
    return best[1] if best else None


@functools.lru_cache(maxsize=400_000)
def normalise(name: str | None) -> OrgName:
    """All comparison keys of one organisation name; cached (a million records share many names)."""
    rules = load_name_rules()
    raw = "" if name is None else str(name)
    folded = _fold_text(raw)
    if not folded:
        return OrgName(raw, "", "", "", None, None, None, (), None)
    outside = _PAREN.sub(" ", folded)
    n_cjk = len(CJK.findall(outside))
    if _KANA_HANGUL.search(folded):
        script = "other"
    elif n_cjk >= 2 or (n_cjk and not _LATIN.search(outside)):
        script = "cjk"
    elif _LATIN.search(outside):
        script = "latin"
    else:
        script = "cjk" if CJK.search(folded) else "other"
    inst = _institution(folded, rules)
    if script == "latin":
        return _latin(raw, folded, inst, rules)
    return _cjk(raw, folded, script, inst, rules)


def _latin(raw: str, folded: str, inst: str | None, rules: NameRules) -> OrgName:
    tokens = folded.replace("(", " ( ").replace(")", " ) ").split()
    while tokens and tokens[0] in rules.articles and len(tokens) > 1:
        tokens = tokens[1:]
    tokens = _strip_trailing_phrases(tokens, rules.legal_latin)
    while len(tokens) > 3 and tokens[-1] == ")" and "(" in tokens:  # "… (Publ)", "Trade Desk (The)"
        i = len(tokens) - 1 - tokens[::-1].index("(")
        inner = tuple(tokens[i + 1:-1])
        if i == 0 or (inner not in rules.legal_latin.items and not (len(inner) == 1 and inner[0] in rules.articles)):
            break
        tokens = _strip_trailing_phrases(tokens[:i], rules.legal_latin)
    norm = " ".join(t for t in tokens if t not in "()")
    if inst is not None:  # a university's campus or an institute's city is part of its name
        no_paren = norm.split()
        core_t = list(no_paren)
    else:
        no_paren = _drop_home_brackets(" ".join(tokens), rules).replace("(", " ").replace(")", " ").split()
        core_t = _remove_phrases(no_paren, rules.desc_latin)
        if not core_t or all(t in rules.generic_latin for t in core_t):  # "Power Technologies" stays whole
            core_t = no_paren or norm.split()
    core_t = _strip_trailing_phrases(core_t, rules.legal_latin)
    while len(core_t) > 1 and core_t[-1] in _DANGLING:
        core_t = core_t[:-1]
    while len(core_t) > 1 and core_t[0] in _DANGLING:
        core_t = core_t[1:]
    core = " ".join(core_t)
    brand = None
    if inst is None:
        rest = list(core_t)
        changed = True
        while changed and rest:
            changed = False
            for n in rules.place_lengths:
                if len(rest) > n and tuple(rest[:n]) in rules.places_latin:
                    rest, changed = rest[n:], True
                    break
        while rest and rest[-1] in rules.home_suffixes:  # "CRRC China"; "Baidu USA" keeps its place
            rest = rest[:-1]
        rest = [t for t in rest if t not in rules.generic_latin]
        if rest and sum(len(t) for t in rest) >= 3:
            brand = " ".join(rest)
    return OrgName(raw, "latin", norm, core, brand, core, brand, tuple(core_t), inst)


def _cjk(raw: str, folded: str, script: str, inst: str | None, rules: NameRules) -> OrgName:
    s = folded.replace(" ", "") if script == "cjk" else folded
    s, _ = rules.legal_cjk_leading.strip_prefixes(s, 1)
    s, _ = rules.legal_cjk.strip_suffixes(s, 2)
    norm = s
    if inst is not None:  # 哈尔滨工业大学（威海） is a campus of its own
        core = s.replace("(", "").replace(")", "")
    else:
        core = _drop_home_brackets(s, rules).replace(" ", "") or s
        while True:  # one descriptor at a time: 航天科技集团 stops at 航天科技, never 航天 (a generic word)
            stripped, taken = rules.desc_cjk.strip_suffixes_once(core, 2)
            if not taken or stripped in rules.generic_cjk:
                break
            core = stripped
    brand = roman_core = roman_brand = None
    if script == "cjk":
        roman_core = romanise(core)
        if inst is None:
            rest, _places = rules.places_cjk.strip_prefixes(core, 2)
            rest, _ = rules.generic_cjk.strip_suffixes(rest, 2)
            rest, _ = rules.desc_cjk.strip_suffixes(rest, 2)
            if len(CJK.findall(rest)) >= 2 and rest not in rules.generic_cjk and rest not in rules.places_cjk:
                brand = rest
                roman_brand = romanise(rest).replace(" ", "")
    return OrgName(raw, script, norm, core, brand, roman_core, roman_brand, (core,), inst)


@functools.lru_cache(maxsize=200_000)
def romanise(text: str) -> str:
    """A Chinese name in Latin letters as an English name would write it: leading places in pinyin
    as one word each, trailing generic words translated, the distinctive part in pinyin as one
    word ("四川长虹" → "sichuan changhong", "潍柴动力" → "weichai power")."""
    rules = load_name_rules()
    rest, places = rules.places_cjk.strip_prefixes(text, 1)
    rest, tail = rules.romanise_words.strip_suffixes(rest, 1)
    words = [rules.romanise.get(p) or pinyin(p) for p in places]
    if rest:
        words.append(rules.romanise.get(rest) or pinyin(rest))
    words += [rules.romanise[w] for w in tail]
    return " ".join(w for w in words if w)


_TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuuuuuunnnm")


@functools.lru_cache(maxsize=1)
def _pinyin_tables() -> tuple[dict[int, str], dict[str, str], int]:
    """pypinyin's character and phrase dictionaries, tone marks removed (built once; far faster than
    calling pypinyin per name, which matters for a million names)."""
    from pypinyin import phrases_dict, pinyin_dict

    chars = {cp: v.split(",")[0].translate(_TONES) for cp, v in pinyin_dict.pinyin_dict.items()}
    phrases = {k: "".join(syl[0].translate(_TONES) for syl in v) for k, v in phrases_dict.phrases_dict.items()
               if 2 <= len(k) <= 4}
    return chars, phrases, 4


@functools.lru_cache(maxsize=200_000)
def pinyin(text: str) -> str:
    """Toneless pinyin, syllables joined ("长安" → "changan", "重庆" → "chongqing"); Latin letters and
    digits pass through; phrases use their dictionary reading, other characters their first."""
    chars, phrases, longest = _pinyin_tables()
    out, i, n = [], 0, len(text)
    while i < n:
        for L in range(min(longest, n - i), 1, -1):
            p = phrases.get(text[i:i + L])
            if p is not None:
                out.append(p)
                i += L
                break
        else:
            c = text[i]
            out.append(chars.get(ord(c), c if c.isascii() and c.isalnum() else ""))
            i += 1
    return "".join(out)


def name_variants(*names: str | None, aliases: list[str] | tuple[str, ...] | None = None) -> list[OrgName]:
    """The distinct normalised names of one organisation (name_en, name_zh, aliases), by `norm`."""
    seen, out = set(), []
    for n in [*names, *(aliases or [])]:
        if n is None or not str(n).strip():
            continue
        on = normalise(str(n))
        if on.norm and on.norm not in seen:
            seen.add(on.norm)
            out.append(on)
    return out
