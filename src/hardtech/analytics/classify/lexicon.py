"""Bilingual keyword evidence on unit ids: field terms, negative terms, typology cues, TRL cues.

The lexicons live in the taxonomy data files. Each term becomes a short sequence of units
(`units.py`); a batch is matched with one numpy pass per term length: every window of n
consecutive units made only of units some term has gets a hash key (most windows of a text hold
another unit and cannot match), and the keys are looked up in the sorted keys of the terms of
that length. English windows are sorted before hashing, so word order does not matter
("Mars landing" = "landing on Mars", stop words being dropped). Chinese windows keep their
order and must be consecutive character bigrams: a Chinese term matches only where its
characters stand together (`无人机销售` no longer fires on a drone maker that mentions 销售
somewhere, issue 12). A term that mixes Latin letters and Chinese (`AI芯片`) needs its Latin
units anywhere in the text and its Chinese part as written.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from hardtech.analytics.classify.units import CJK_ANY, VOCAB, Units, term_units
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS, Taxonomy, load_taxonomy

MAX_N = 12  # longest term in units (a 13-character Chinese term)
_P = np.uint64(0x9E3779B97F4A7C15)
POS, NEG, TYP, TRL = 0, 1, 2, 3


def _powers(n: int) -> np.ndarray:
    out = np.ones(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(1, n):
            out[k] = out[k - 1] * _P
    return out


_POW = _powers(MAX_N)


def _key(seq) -> int:
    with np.errstate(over="ignore"):
        return int((np.asarray(seq, dtype=np.uint64) * _POW[: len(seq)]).sum() + np.uint64(len(seq)))


@dataclass
class LexiconHits:
    """Per text: summed term weights per field (positive, negative), per typology class, TRL cues,
    and the matched terms (indices into `Lexicon.terms`) for the evidence."""

    pos: np.ndarray   # (n, fields)
    neg: np.ndarray   # (n, fields)
    typ: np.ndarray   # (n, classes)
    trl: np.ndarray   # (n,) estimated TRL, 0 = none stated
    doc: np.ndarray   # (hits,) text of each hit, sorted
    term: np.ndarray  # (hits,) term index of each hit

    def terms_of(self, i: int) -> np.ndarray:
        lo, hi = np.searchsorted(self.doc, [i, i + 1])
        return self.term[lo:hi]

    def subset(self, idx) -> "LexiconHits":
        idx = np.asarray(list(idx), dtype=np.int64)
        remap = {int(i): k for k, i in enumerate(idx)}
        keep = np.isin(self.doc, idx)
        d = np.array([remap[int(x)] for x in self.doc[keep]], dtype=np.int64)
        t = self.term[keep]
        o = np.argsort(d, kind="stable")
        return LexiconHits(self.pos[idx], self.neg[idx], self.typ[idx], self.trl[idx], d[o], t[o])

    @staticmethod
    def concat(a: "LexiconHits", b: "LexiconHits") -> "LexiconHits":
        n = len(a.pos)
        return LexiconHits(np.vstack([a.pos, b.pos]), np.vstack([a.neg, b.neg]), np.vstack([a.typ, b.typ]),
                           np.concatenate([a.trl, b.trl]), np.concatenate([a.doc, b.doc + n]),
                           np.concatenate([a.term, b.term]))


class Lexicon:
    def __init__(self, taxonomy: Taxonomy | None = None):
        self.taxonomy = taxonomy or load_taxonomy()
        self.terms: list[str] = []
        kinds, targets, lo, hi, weights = [], [], [], [], []
        seen: dict[tuple, int] = {}

        def add(term: str, kind: int, target: int, trl=(0, 0)) -> None:
            if "-" in term and not CJK_ANY.search(term):
                # a hyphenated English term is one word; the same words written apart ("ride hailing"
                # for "ride-hailing") are matched too
                add(term.replace("-", " "), kind, target, trl)
            u = term_units(term)
            if not u or len(u) > MAX_N:
                return
            sig = (term, kind, target)
            if sig in seen:
                return
            seen[sig] = len(self.terms)
            self.terms.append(term)
            kinds.append(kind)
            targets.append(target)
            lo.append(trl[0])
            hi.append(trl[1])
            n_words = len(term.split()) if not CJK_ANY.search(term) else max(1, len(term) // 2)
            weights.append(1.0 + 0.5 * (min(n_words, 3) - 1))
            self._units.append(u)

        self._units: list[tuple[int, ...]] = []
        for j, f in enumerate(FIELD_IDS):
            fd = self.taxonomy.fields[f]
            for term in (*fd.keywords_en, *fd.keywords_zh):
                add(term, POS, j)
            for term in (*fd.negative_keywords_en, *fd.negative_keywords_zh):
                add(term, NEG, j)
        for k, c in enumerate(TYPOLOGY_IDS):
            tc = self.taxonomy.typology[c]
            for term in (*tc.cues_en, *tc.cues_zh):
                add(term, TYP, k)
        for cue in self.taxonomy.trl_cues:
            add(cue.cue, TRL, 0, (cue.trl_min, cue.trl_max))
        self.kind = np.array(kinds, dtype=np.int8)
        self.target = np.array(targets, dtype=np.int64)
        self.trl_lo = np.array(lo, dtype=np.int64)
        self.trl_hi = np.array(hi, dtype=np.int64)
        self.weight = np.array(weights, dtype=np.float32)
        # index the terms by (script, length): English by sorted units, Chinese by ordered units;
        # a mixed term is indexed by its Chinese part and needs its Latin units present too
        by_len: dict[tuple[bool, int], list[tuple[int, int]]] = defaultdict(list)
        self.needs: dict[int, np.ndarray] = {}
        for t, u in enumerate(self._units):
            zh = [x for x in u if VOCAB.is_cjk[x]]
            en = [x for x in u if not VOCAB.is_cjk[x]]
            if zh and en:
                self.needs[t] = np.array(sorted(set(en)), dtype=np.int64)
                by_len[(False, len(zh))].append((_key(zh), t))
            elif zh:
                by_len[(False, len(zh))].append((_key(zh), t))
            else:
                by_len[(True, len(en))].append((_key(sorted(en)), t))
        self._mixed = np.zeros(len(self.terms) + 1, dtype=bool)
        self._mixed[list(self.needs)] = True
        self.tables: dict[tuple[bool, int], tuple[np.ndarray, np.ndarray]] = {}
        for k, pairs in by_len.items():
            pairs.sort()
            self.tables[k] = (np.array([p[0] for p in pairs], dtype=np.uint64),
                              np.array([p[1] for p in pairs], dtype=np.int64))
        # the units any term of a script is made of: a window holding any other unit matches no term,
        # so only windows made of these are hashed and looked up (most windows of a text are not)
        top = max((x for u in self._units for x in u), default=0) + 2
        self._member = {}
        for english in (True, False):
            m = np.zeros(top, dtype=bool)
            for u in self._units:
                part = [x for x in u if VOCAB.is_cjk[x] != english]
                if part:
                    m[part] = True
            self._member[english] = m

    def _members(self, ids: np.ndarray, english: bool) -> np.ndarray:
        m = self._member[english]
        return m[np.minimum(ids, len(m) - 1)]  # the last entry is False: units newer than the lexicon

    def match(self, u: Units) -> LexiconHits:
        n = len(u)
        ids = u.ids.astype(np.uint64)
        doc = u.doc
        eng = u.english
        hit_doc, hit_term = [], []
        N = len(ids)
        runs = {}  # per script: cumulative counts of its units that some term is made of
        member = {}
        for (english, length), (keys, terms) in self.tables.items():
            if N < length:
                continue
            M = N - length + 1
            m = member.get(english)
            if m is None:
                m = member[english] = self._members(u.ids, english) & (eng if english else ~eng)
                runs[english] = np.concatenate([[0], np.cumsum(m)])
            c = runs[english]
            # window i (units i .. i+length-1) stays in one text, in one script, and is all term units
            ok = (c[length:length + M] - c[:M]) == length
            ok &= doc[:M] == doc[length - 1:length - 1 + M]
            start = np.flatnonzero(ok)
            if english and length == 2 and N > 2:
                # one word between the two ("consumer quadcopter drone" ~ "consumer drone")
                s2 = np.flatnonzero(m[:-2] & m[2:] & (doc[:-2] == doc[2:]))
                start2 = s2
            else:
                start2 = None
            if not len(start) and (start2 is None or not len(start2)):
                continue
            Wk = ids[start[:, None] + np.arange(length)]
            if english and length > 1:
                Wk = np.sort(Wk, axis=1)
            with np.errstate(over="ignore"):
                key = (Wk * _POW[:length]).sum(axis=1) + np.uint64(length)
            if start2 is not None:
                W2 = np.sort(np.stack([ids[start2], ids[start2 + 2]], axis=1), axis=1)
                with np.errstate(over="ignore"):
                    key = np.concatenate([key, (W2 * _POW[:2]).sum(axis=1) + np.uint64(2)])
                start = np.concatenate([start, start2])
            left = np.searchsorted(keys, key, "left")
            cnt = np.searchsorted(keys, key, "right") - left
            found = cnt > 0
            if found.any():
                # several terms may share one key (the same units as two kinds of term): take all
                c2 = cnt[found]
                first = np.repeat(left[found], c2)
                offs = np.arange(len(first)) - np.repeat(np.cumsum(c2) - c2, c2)
                hit_doc.append(np.repeat(doc[start[found]], c2))
                hit_term.append(terms[first + offs])
        if hit_doc:
            hd = np.concatenate(hit_doc).astype(np.int64)
            ht = np.concatenate(hit_term).astype(np.int64)
            pair = np.unique(hd * (len(self.terms) + 1) + ht)
            hd, ht = pair // (len(self.terms) + 1), pair % (len(self.terms) + 1)
            if self.needs:  # mixed terms (AI芯片): their Latin units must be in the text too
                keep = np.ones(len(ht), dtype=bool)
                for k in np.flatnonzero(self._mixed[ht]).tolist():
                    if not np.isin(self.needs[int(ht[k])], u.of(int(hd[k]))).all():
                        keep[k] = False
                hd, ht = hd[keep], ht[keep]
        else:
            hd = np.zeros(0, dtype=np.int64)
            ht = np.zeros(0, dtype=np.int64)
        F, K = len(FIELD_IDS), len(TYPOLOGY_IDS)
        pos_m = np.zeros((n, F), dtype=np.float32)
        neg_m = np.zeros((n, F), dtype=np.float32)
        typ_m = np.zeros((n, K), dtype=np.float32)
        kind = self.kind[ht]
        w = self.weight[ht]
        for code, mat in ((POS, pos_m), (NEG, neg_m), (TYP, typ_m)):
            sel = kind == code
            np.add.at(mat, (hd[sel], self.target[ht[sel]]), w[sel] if code != NEG else 1.0)
        trl = np.zeros(n, dtype=np.float32)
        sel = kind == TRL
        if sel.any():
            d, lo, hi = hd[sel], self.trl_lo[ht[sel]], self.trl_hi[ht[sel]]
            mature = np.zeros(n, dtype=bool)
            np.logical_or.at(mature, d, lo >= 7)
            best_hi = np.zeros(n)
            np.maximum.at(best_hi, d, hi)
            best_mid = np.zeros(n)
            np.maximum.at(best_mid, d, (lo + hi) / 2)
            trl = np.where(mature, best_hi, np.round(best_mid)).astype(np.float32)
        return LexiconHits(pos_m, neg_m, typ_m, trl, hd, ht)

    # -- evidence --------------------------------------------------------------------------------
    def terms_by(self, term_idx: np.ndarray, kind: int, target: int | None = None) -> list[str]:
        out = []
        for t in term_idx.tolist():
            if self.kind[t] == kind and (target is None or self.target[t] == target):
                out.append(self.terms[t])
        return out


@functools.lru_cache(maxsize=4)
def load_lexicon(taxonomy_version: str | None = None) -> Lexicon:
    return Lexicon()
