"""Text units shared by the learned text model and the lexicon: one pass per text, integer ids out.

A *unit* is an English stem (stop words dropped) or a Chinese character bigram. Both signals
that read words — the learned text model and the bilingual lexicons — work on these ids, so a
batch is tokenised once and the rest is numpy over integer arrays (no per-word Python in the
models). Chinese is cut into overlapping character bigrams rather than segmented with a
dictionary: bigrams need no word list, are exact (a term matches only where its characters stand
together) and cost one list comprehension per text.

Ids are process-wide and grow as new words are seen (`UnitVocab`); models store unit *strings*
and map them to ids when loaded, so ids never leave the process.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

import numpy as np

from hardtech.analytics.classify.text import stem

WORD = re.compile(r"[a-z0-9][a-z0-9+\-]*[a-z0-9+]|[a-z0-9]")
CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
CJK_ANY = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")

# Function words and boilerplate that carry no field or typology: learned weights on them are
# noise (issue 12: biotech had learned "in", "at", "will"). Lexicon terms skip them too, so
# "landing on Mars" and "Mars landing" are the same two units.
STOP_WORDS = frozenset("""
a about above across after again against all almost along also although always am among an and another any are
around as at be became because become becomes been before being below between both but by can could did do does
doing done down during each either else etc even ever every few for from further get gets got had has have having
he her here hers him his how however i if in into is it its itself just least less let like made make makes many
may me might more most much must my near neither no nor not now of off often on once one only onto or other others
our ours out over own per perhaps quite rather re same several she should since so some such than that the their
theirs them then there these they this those though through thus to too toward towards under until up upon us
use used uses using very via was we well were what whatever when where whether which while who whom whose why will
with within without would yet you your yours inc ltd llc co corp company companies
""".split()) - {"no", "not", "nor", "without", "never"}
# negations stay units: dropped, "no product yet" (a TRL cue) would fire on any text saying "product"

ENGLISH_FLAG = 1 << 30  # never set on a real id: marks nothing, kept for clarity of the bigram key below


class UnitVocab:
    """Surface word → unit id (stemmed, stop words → -1), and unit string ↔ id. Thread-safe growth."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.strings: list[str] = []
        self.is_cjk: list[bool] = []
        self._surface: dict[str, int] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.strings)

    def unit(self, s: str) -> int:
        """The id of a unit string, added when new."""
        i = self.ids.get(s)
        if i is None:
            with self._lock:
                i = self.ids.get(s)
                if i is None:
                    i = len(self.strings)
                    self.strings.append(s)
                    self.is_cjk.append(bool(CJK_ANY.match(s)))
                    self.ids[s] = i
        return i

    def word(self, w: str) -> int:
        """A lower-case English surface word → its stem's id; -1 for a stop word."""
        i = self._surface.get(w)
        if i is None:
            i = -1 if w in STOP_WORDS else self.unit(stem(w))
            if i >= 0 and self.strings[i] in STOP_WORDS:
                i = -1
            if len(self._surface) > 500_000:  # unbounded input must not grow memory without end
                self._surface.clear()
            self._surface[w] = i
        return i

    def english_units(self, text: str) -> list[int]:
        get = self._surface.get
        out = []
        for w in WORD.findall(text.lower()):
            i = get(w)
            if i is None:
                i = self.word(w)
            if i >= 0:
                out.append(i)
        return out

    def chinese_units(self, text: str) -> list[int]:
        unit = self.unit
        ids = self.ids
        out = []
        for run in CJK_RUN.findall(text):
            if len(run) == 1:
                grams = [run]
            else:
                grams = [run[k:k + 2] for k in range(len(run) - 1)]
            for g in grams:
                i = ids.get(g)
                out.append(i if i is not None else unit(g))
        return out


VOCAB = UnitVocab()


@dataclass
class Units:
    """A batch's units as one flat array: `ids[indptr[i]:indptr[i+1]]` are text i's units in order.

    `english` marks units from English words (bigram features and multi-word terms are built from
    consecutive English units only; Chinese units are already bigrams).
    """

    ids: np.ndarray
    indptr: np.ndarray
    english: np.ndarray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    @property
    def doc(self) -> np.ndarray:
        """The text each unit belongs to."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))

    def counts(self) -> np.ndarray:
        return np.diff(self.indptr)

    def of(self, i: int) -> np.ndarray:
        return self.ids[self.indptr[i]:self.indptr[i + 1]]

    def subset(self, idx) -> "Units":
        idx = np.asarray(list(idx), dtype=np.int64)
        parts = [(self.ids[self.indptr[i]:self.indptr[i + 1]], self.english[self.indptr[i]:self.indptr[i + 1]])
                 for i in idx]
        lens = np.array([len(p[0]) for p in parts], dtype=np.int64)
        indptr = np.concatenate([[0], np.cumsum(lens)])
        ids = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        eng = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, bool)
        return Units(ids.astype(np.int64), indptr, eng.astype(bool))

    @staticmethod
    def concat(a: "Units", b: "Units") -> "Units":
        return Units(np.concatenate([a.ids, b.ids]), np.concatenate([a.indptr, b.indptr[1:] + a.indptr[-1]]),
                     np.concatenate([a.english, b.english]))


def units(texts: list[str], vocab: UnitVocab = VOCAB) -> Units:
    """Units of cleaned texts (see `text.clean`)."""
    ids: list[int] = []
    eng: list[bool] = []
    indptr = [0]
    en = vocab.english_units
    zh = vocab.chinese_units
    for t in texts:
        e = en(t)
        ids += e
        if CJK_ANY.search(t):
            c = zh(t)
            eng += [True] * len(e) + [False] * len(c)
            ids += c
        else:
            eng += [True] * len(e)
        indptr.append(len(ids))
    return Units(np.array(ids, dtype=np.int64), np.array(indptr, dtype=np.int64), np.array(eng, dtype=bool))


def term_units(term: str, vocab: UnitVocab = VOCAB) -> tuple[int, ...]:
    """How a lexicon term is matched: its units in order (English stems without stop words)."""
    from hardtech.analytics.classify.text import clean

    t = clean(term)
    if CJK_ANY.search(t):
        return tuple(vocab.english_units(t) + vocab.chinese_units(t))
    return tuple(vocab.english_units(t))
