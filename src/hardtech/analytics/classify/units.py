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

import itertools
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
        words = WORD.findall(text.lower())
        get = self._surface.get
        ids = list(map(get, words))  # one C-level pass; a word never seen before is looked up below
        if None in ids:
            word = self.word
            ids = [word(w) if i is None else i for w, i in zip(words, ids)]
        return [i for i in ids if i >= 0]

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
    words: "WordIds | None" = None  # the whitespace words they were cut from, for the encoder to reuse

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


@dataclass
class WordIds:
    """A batch's whitespace words (`text.split()` of each text, end to end), their ids in `WORDS` and
    how many each text has. The static encoder pools the same words: it maps these ids to its own
    word columns with one gather instead of looking every word up again (`embeddings.StaticEncoder`).
    Ids mean something only within one `generation` of `WORDS` (it starts over when full)."""

    words: list[str]
    wid: np.ndarray
    counts: np.ndarray
    generation: int


class WordUnits:
    """Whitespace word → its English and Chinese units, remembered: a batch is then one dict lookup
    per word and numpy gathers (the cut of a word never depends on its neighbours: neither a
    `WORD` match nor a run of Chinese characters crosses a space)."""

    LIMIT = 500_000  # distinct words remembered before starting over (unbounded input, bounded memory)

    def __init__(self, vocab: UnitVocab) -> None:
        self.vocab = vocab
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        self.generation = getattr(self, "generation", -1) + 1
        self.index: dict[str, int] = {}
        self._pools = {s: [np.zeros(1024, np.int64), 0] for s in ("en", "zh")}  # units of all words, end to end
        self._spans = {s: np.zeros((1024, 2), np.int64) for s in ("en", "zh")}  # (start, length) per word

    def _append(self, script: str, w: int, ids: list[int]) -> None:
        pool = self._pools[script]
        end = pool[1] + len(ids)
        if end > len(pool[0]):
            pool[0] = np.concatenate([pool[0], np.zeros(max(end, len(pool[0])), np.int64)])
        pool[0][pool[1]:end] = ids
        spans = self._spans[script]
        if w >= len(spans):
            spans = self._spans[script] = np.concatenate([spans, np.zeros_like(spans)])
        spans[w] = (pool[1], len(ids))
        pool[1] = end

    def _add(self, words: list[str]) -> None:
        en, zh = self.vocab.english_units, self.vocab.chinese_units
        for w in words:
            if w in self.index:
                continue
            k = len(self.index)
            self._append("en", k, en(w))
            self._append("zh", k, zh(w) if CJK_ANY.search(w) else [])
            self.index[w] = k

    def word_ids(self, words: list[str]) -> np.ndarray:
        get = self.index.get
        ids = np.fromiter(map(get, words, itertools.repeat(-1)), dtype=np.int64, count=len(words))
        if (ids < 0).any():
            with self._lock:
                if len(self.index) > self.LIMIT:  # start over: the batch's known words get new ids too
                    self._reset()
                    self._add(list(dict.fromkeys(words)))
                else:
                    self._add(list(dict.fromkeys(w for w, i in zip(words, ids.tolist()) if i < 0)))
                ids = np.fromiter(map(self.index.__getitem__, words), dtype=np.int64, count=len(words))
        return ids

    def gather(self, script: str, wid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The units of these words in order, and how many each word gave."""
        spans = self._spans[script][wid]
        lens = spans[:, 1]
        total = int(lens.sum())
        if not total:
            return np.zeros(0, np.int64), lens
        starts = np.repeat(spans[:, 0] - (np.cumsum(lens) - lens), lens)
        return self._pools[script][0][starts + np.arange(total)], lens


WORDS = WordUnits(VOCAB)


def units(texts: list[str], vocab: UnitVocab = VOCAB) -> Units:
    """Units of cleaned texts (see `text.clean`): each text's English units in order, then its Chinese ones."""
    if vocab is not VOCAB:
        return _units_by_text(texts, vocab)
    words: list[str] = []
    per_text = []
    for t in texts:
        w = t.split()
        per_text.append(len(w))
        words += w
    cache = WORDS
    with cache._lock:  # a reset by another thread must not change the ids between lookup and gather
        wid = cache.word_ids(words)
        generation = cache.generation
        wdoc = np.repeat(np.arange(len(texts), dtype=np.int64), per_text)
        en, en_n = cache.gather("en", wid)
        zh, zh_n = cache.gather("zh", wid)
    en_doc = np.repeat(wdoc, en_n)
    if len(zh):
        zh_doc = np.repeat(wdoc, zh_n)
        ids = np.concatenate([en, zh])
        english = np.concatenate([np.ones(len(en), bool), np.zeros(len(zh), bool)])
        order = np.argsort(np.concatenate([en_doc, zh_doc]), kind="stable")  # per text: English, then Chinese
        ids, english = ids[order], english[order]
        counts = np.bincount(en_doc, minlength=len(texts)) + np.bincount(zh_doc, minlength=len(texts))
    else:
        ids, english = en, np.ones(len(en), bool)
        counts = np.bincount(en_doc, minlength=len(texts))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Units(ids.astype(np.int64), indptr, english,
                 WordIds(words, wid, np.asarray(per_text, dtype=np.int64), generation))


def _units_by_text(texts: list[str], vocab: UnitVocab) -> Units:
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
