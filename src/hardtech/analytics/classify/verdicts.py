"""A batch of verdicts as columns, with each row's evidence written only when it is read.

`HardTechClassifier.classify_batch` returns a `Verdicts`: the field probabilities, the fields
assigned, the typology and its probabilities, the TRL and the organisation kind of every input as
numpy arrays, the form a bulk caller (a parquet file, the store's classify-all) wants. Writing the
evidence string is most of the per-row Python a verdict costs, and most bulk callers never read
it, so `evidence(i)` writes it on demand from the state the batch kept (matched terms, learned-word
weights, code matches, the typology's drivers); `rows()` gives exactly what `classify()` returns,
evidence included.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

INSUFFICIENT = "insufficient evidence"


@dataclass
class Verdicts:
    """Columns of one classification call, rows in input order.

    `field_proba` (n, 8) and `typology_proba` (n, 5) are rounded to 4 places as in `classify()`;
    `typology_proba` rows are NaN where no typology is given. `order` (n, 8) lists each row's fields
    by falling probability; `assigned` (n, 8) marks the fields at or above the threshold.
    `typology` and `top_field` hold indices into TYPOLOGY_IDS / FIELD_IDS, -1 for none; `trl` 0 for none.
    """

    field_proba: np.ndarray
    order: np.ndarray
    assigned: np.ndarray
    typology: np.ndarray
    typology_proba: np.ndarray
    trl: np.ndarray
    kinds: list
    insufficient: np.ndarray
    _evidence: list  # (first row, rows, `Lazy` writer of a row's evidence from its index in the part)

    def __len__(self) -> int:
        return len(self.trl)

    @property
    def top_field(self) -> np.ndarray:
        first = self.order[:, 0] if len(self) else np.zeros(0, dtype=np.int64)
        return np.where(self.assigned.any(axis=1), first, -1)

    def fields(self, i: int) -> list[dict]:
        """Row i's assigned fields, highest first, as `classify()` gives them."""
        row = self.field_proba[i]
        return [{"field": FIELD_IDS[j], "probability": float(row[j])} for j in self.order[i].tolist()
                if self.assigned[i, j]]

    def evidence(self, i: int) -> str:
        """Row i's evidence, written now (the same text `classify()` puts in the row)."""
        for start, n, write in self._evidence:
            if start <= i < start + n:
                return write(i - start)
        raise IndexError(i)

    def evidence_column(self) -> list[str]:
        return [e for _, n, write in self._evidence for e in write.all(n)]

    def rows(self, evidence: bool = True) -> list[dict[str, Any]]:
        """One dict per input, as `classify()` returns them; without `evidence`, no evidence key."""
        pf = self.field_proba.tolist()
        pt = self.typology_proba.tolist()
        order = self.order.tolist()
        assigned = self.assigned.tolist()
        typ = self.typology.tolist()
        trl = self.trl.tolist()
        insufficient = self.insufficient.tolist()
        ev = self.evidence_column() if evidence else None
        out = []
        for i, row in enumerate(pf):
            a = assigned[i]
            chosen = [{"field": FIELD_IDS[j], "probability": row[j]} for j in order[i] if a[j]]
            t = typ[i]
            r = {"fields": chosen, "top_field": chosen[0]["field"] if chosen else None,
                 "field_probabilities": dict(zip(FIELD_IDS, row)),
                 "typology": TYPOLOGY_IDS[t] if t >= 0 else None,
                 "typology_probabilities": dict(zip(TYPOLOGY_IDS, pt[i])) if t >= 0 else {},
                 "trl": trl[i] or None, "kind": self.kinds[i]}
            if ev is not None:
                r["evidence"] = ev[i]
            r["insufficient"] = insufficient[i]
            out.append(r)
        return out

    def to_arrow(self, evidence: bool = False):
        """A pyarrow table: one float column per field (`p_ai` …) and per typology class (`t_hard_core` …,
        null where none), `fields` (list of ids, highest first), `top_field`, `typology`, `trl`, `kind`,
        `insufficient`, and `evidence` when asked."""
        import pyarrow as pa

        top = self.top_field
        names = np.array(list(FIELD_IDS) + [None], dtype=object)
        tnames = np.array(list(TYPOLOGY_IDS) + [None], dtype=object)
        n = len(self)
        ordered = np.take_along_axis(self.assigned, self.order, axis=1)
        counts = ordered.sum(axis=1)
        flat = self.order[ordered]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int32)
        cols: dict[str, Any] = {f"p_{f}": self.field_proba[:, j] for j, f in enumerate(FIELD_IDS)}
        cols["fields"] = pa.ListArray.from_arrays(pa.array(offsets), pa.array(names[flat].tolist(), pa.string()))
        cols["top_field"] = pa.array(names[top].tolist(), pa.string())
        cols["typology"] = pa.array(tnames[self.typology].tolist(), pa.string())
        for k, c in enumerate(TYPOLOGY_IDS):
            cols[f"t_{c}"] = pa.array(self.typology_proba[:, k], pa.float64(), from_pandas=True)
        cols["trl"] = pa.array(np.where(self.trl > 0, self.trl, 0), pa.int32(), mask=self.trl == 0)
        cols["kind"] = pa.array(self.kinds, pa.string())
        cols["insufficient"] = pa.array(self.insufficient, pa.bool_())
        if evidence:
            cols["evidence"] = pa.array(self.evidence_column(), pa.string())
        assert all(len(v) == n for v in cols.values())
        return pa.table(cols)

    def detached(self, evidence: bool) -> "Verdicts":
        """The columns without the state the evidence is written from (for a worker to send back), and
        with every row's evidence written now when `evidence`, else none."""
        ev = [(0, len(self), Written(self.evidence_column()))] if evidence else []
        return Verdicts(self.field_proba, self.order, self.assigned, self.typology, self.typology_proba, self.trl,
                        self.kinds, self.insufficient, ev)

    @staticmethod
    def concat(parts: list["Verdicts"]) -> "Verdicts":
        if len(parts) == 1:
            return parts[0]
        ev, start = [], 0
        for p in parts:
            ev += [(start + s, n, w) for s, n, w in p._evidence]
            start += len(p)
        return Verdicts(np.concatenate([p.field_proba for p in parts]), np.concatenate([p.order for p in parts]),
                        np.concatenate([p.assigned for p in parts]), np.concatenate([p.typology for p in parts]),
                        np.concatenate([p.typology_proba for p in parts]), np.concatenate([p.trl for p in parts]),
                        [k for p in parts for k in p.kinds], np.concatenate([p.insufficient for p in parts]), ev)


class Lazy:
    """A part's row writer, its shared state (`build()`: matched terms, gathered weights …) made on the
    first row asked for and kept for the next; `all(n)` writes every row from state made for the call
    and dropped after it, so writing a large batch's evidence holds one part's state at a time."""

    def __init__(self, build: Callable[[], Callable[[int], str]]):
        self._build = build
        self._write: Callable[[int], str] | None = None

    def __call__(self, i: int) -> str:
        if self._write is None:
            self._write = self._build()
        return self._write(i)

    def all(self, n: int) -> list[str]:
        write = self._write or self._build()
        return [write(i) for i in range(n)]


class Written:
    """A part's evidence already written (by the worker that made the part)."""

    def __init__(self, texts: list[str]):
        self.texts = texts

    def __call__(self, i: int) -> str:
        return self.texts[i]

    def all(self, n: int) -> list[str]:
        return self.texts[:n]
