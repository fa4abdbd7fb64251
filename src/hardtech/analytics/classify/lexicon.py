"""Bilingual keyword evidence: which field terms, negative terms, typology cues and TRL cues a text contains.

The lexicons live in the taxonomy data files; this module only indexes them by token sequence
so one pass over a text finds every term, and keeps the matched terms as evidence.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from hardtech.analytics.classify.text import chinese_tokens, has_cjk, register_chinese_terms, term_tokens, tokens
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS, Taxonomy, load_taxonomy

MAX_N = 4  # longest term, in tokens
LOOSE_WINDOW = 3  # words a loose match may span beyond the term's own length
STOP = {"and", "or", "of", "the", "a", "an", "on", "in", "for", "to", "with", "by"}


@dataclass
class Match:
    field_pos: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    field_neg: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    typology: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    trl: list[tuple[str, int, int]] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)

    def field_score(self, f: str) -> float:
        return sum(1.0 + 0.5 * (t.count(" ")) for t in self.field_pos.get(f, ()))

    def neg_score(self, f: str) -> float:
        return float(len(self.field_neg.get(f, ())))

    def typology_score(self, c: str) -> float:
        return sum(1.0 + 0.5 * (t.count(" ")) for t in self.typology.get(c, ()))

    def trl_estimate(self) -> int | None:
        """The most mature stage the text claims (mass production outranks a prototype)."""
        if not self.trl:
            return None
        return max(hi for _, _, hi in self.trl) if any(lo >= 7 for _, lo, _ in self.trl) else \
            round(max((lo + hi) / 2 for _, lo, hi in self.trl))


class Lexicon:
    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()
        self.index: dict[tuple[str, ...], list[tuple[str, str, object]]] = defaultdict(list)
        zh_terms = []
        for f in FIELD_IDS:
            fd = self.taxonomy.fields[f]
            for term in (*fd.keywords_en, *fd.keywords_zh):
                self._add(term, "pos", f)
            for term in (*fd.negative_keywords_en, *fd.negative_keywords_zh):
                self._add(term, "neg", f)
            zh_terms += [*fd.keywords_zh, *fd.negative_keywords_zh]
        for c in TYPOLOGY_IDS:
            tc = self.taxonomy.typology[c]
            for term in (*tc.cues_en, *tc.cues_zh):
                self._add(term, "typ", c)
            zh_terms += list(tc.cues_zh)
        for cue in self.taxonomy.trl_cues:
            self._add(cue.cue, "trl", (cue.trl_min, cue.trl_max))
            zh_terms.append(cue.cue)
        # Word order and inserted words vary ("landing on Mars", "消费级四旋翼无人机"): a multi-word
        # term also matches when all its words occur close together. Chinese terms are split into
        # their words by jieba before our terms are registered as whole words.
        self.loose: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = defaultdict(list)
        for key in list(self.index):
            if len(key) > 1:
                words = tuple(w for w in key if w not in STOP)
                if len(words) > 1:
                    self.loose[words[0]].append((words, key))
        self.zh_parts = {}
        for term in sorted({k[0] for k in self.index if len(k) == 1 and has_cjk(k[0]) and len(k[0]) >= 4}):
            parts = tuple(w for w in chinese_tokens(term) if len(w) >= 2)
            if len(parts) >= 2 and sum(map(len, parts)) >= 0.8 * len(term):
                self.zh_parts[term] = parts
        register_chinese_terms(zh_terms)

        self.starts = {k[0] for k in self.index}  # a token that can begin a term
        self.zh_terms = sorted({k[0] for k in self.index if len(k) == 1 and has_cjk(k[0])})

    def _add(self, term: str, kind: str, key) -> None:
        toks = term_tokens(term)
        if toks and len(toks) <= MAX_N:
            self.index[toks].append((kind, term, key))

    def match(self, text: str) -> Match:
        """`text` must already be cleaned (`text.clean`)."""
        m = Match()
        toks = tokens(text)
        m.tokens = toks
        n_en = len(toks) if not has_cjk(text) else sum(1 for t in toks if not has_cjk(t))
        seen: set[tuple[str, ...]] = set()
        index = self.index
        starts = self.starts
        n_tok = len(toks)
        for i in range(n_tok):
            if toks[i] not in starts and i < n_en:  # English tokens come first, Chinese after
                continue
            for n in range(1, MAX_N + 1):
                if i + n > n_tok:
                    break
                key = tuple(toks[i:i + n])
                hits = index.get(key)
                if hits is None and n > 1 and i >= n_en:
                    hits = index.get(("".join(key),))  # jieba split a Chinese term: join it back
                if hits and key not in seen:
                    seen.add(key)
                    for kind, term, k in hits:
                        self._record_hit(m, kind, term, k)
            for words, key in self.loose.get(toks[i], ()):
                if key in seen:
                    continue
                window = set(toks[max(0, i - LOOSE_WINDOW): i + len(key) + LOOSE_WINDOW])
                if all(w in window for w in words[1:]):
                    seen.add(key)
                    for kind, term, k in index[key]:
                        self._record_hit(m, kind, term, k)
        if has_cjk(text):
            # jieba may keep a longer word whole (外卖平台) that contains a term (外卖): find those too
            for term in self.zh_terms:
                if (term,) not in seen and (term in text or (
                        term in self.zh_parts and all(p in text for p in self.zh_parts[term]))):
                    seen.add((term,))
                    self._record(m, term)
        return m

    @staticmethod
    def _record_hit(m: Match, kind: str, term: str, k) -> None:
        if kind == "pos":
            m.field_pos[k].append(term)
        elif kind == "neg":
            m.field_neg[k].append(term)
        elif kind == "typ":
            m.typology[k].append(term)
        else:
            m.trl.append((term, k[0], k[1]))

    def _record(self, m: Match, key: str) -> None:
        for kind, term, k in self.index[(key,)]:
            self._record_hit(m, kind, term, k)


@functools.lru_cache(maxsize=4)
def load_lexicon(taxonomy_version: str | None = None) -> Lexicon:
    return Lexicon()
