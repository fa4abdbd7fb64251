"""The evidence string of a verdict: which terms, learned words, codes and signal groups made it.

Written from arrays computed once per batch (matched terms per text, the learned-word weights of
each text's features for every field, the strongest signal groups per field), and only for the
rows a caller reads (`verdicts.Verdicts.evidence`).
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from hardtech.analytics.classify.fields import FEATURES
from hardtech.analytics.classify.lexicon import NEG, POS, TRL, TYP, LexiconHits, load_lexicon
from hardtech.analytics.classify.verdicts import INSUFFICIENT
from hardtech.analytics.taxonomy import FIELD_IDS, TYPOLOGY_IDS

FIELD_IDS_INDEX = {f: j for j, f in enumerate(FIELD_IDS)}


class BatchEvidence:
    """The evidence strings of one batch, from arrays computed once for the batch: matched terms per
    text, the learned-word weights of each text's features for every field, the strongest signal
    groups per field."""

    def __init__(self, clf, n: int, hits: LexiconHits, X: sparse.csr_matrix, code_ev: list, contrib: np.ndarray):
        """`n` texts; `hits` their lexicon matches; `X` their text-model matrix (rows of `clf`'s learned
        words); `code_ev` the concordance matches of their codes; `contrib` the field model's signal groups."""
        self.lex = load_lexicon()
        h = hits
        bounds = np.searchsorted(h.doc, np.arange(n + 1)).tolist()
        kinds, targets = self.lex.kind[h.term], self.lex.target[h.term]
        self.terms = [(h.term[a:b].tolist(), kinds[a:b].tolist(), targets[a:b].tolist())
                      for a, b in zip(bounds[:-1], bounds[1:])]
        tm = clf.fields_.text_
        self.names = tm.feature_names()
        self.indptr, self.cols = X.indptr.tolist(), X.indices
        self.coef_rows = tm.coef_[X.indices]  # every text's feature weights, gathered once per batch
        self.codes = [[(x.field_id, f"{x.scheme}:{x.code}") for x in ev] for ev in code_ev]
        top2 = np.argsort(-contrib, axis=2)[:, :, :2]
        val = np.take_along_axis(contrib, top2, axis=2)
        self.strongest = np.where(val > 0, top2, -1).tolist()

    def _terms(self, i: int, kind: int, target: int | None = None) -> list[str]:
        t, k, g = self.terms[i]
        if not t:  # most texts match few terms, many none
            return []
        return [self.lex.terms[x] for x, kk, gg in zip(t, k, g) if kk == kind and (target is None or gg == target)]

    def fields(self, i: int, chosen: list[dict], codes: list, weak: bool) -> str:
        parts = []
        a, b = self.indptr[i], self.indptr[i + 1]
        cols = self.cols[a:b]
        W = self.coef_rows[a:b] if b > a and chosen else None
        if W is not None:  # each chosen field's four heaviest words, sorted as one argsort per field did
            picks = chosen[:3]
            js = [FIELD_IDS_INDEX[c["field"]] for c in picks]
            Wj = W[:, js]
            top = np.argsort(-Wj, axis=0)[:4]
            top_cols = cols[top].T.tolist()  # only the four per field become Python values
            top_w = np.take_along_axis(Wj, top, axis=0).T.tolist()
        for q, c in enumerate(chosen[:3]):
            f = c["field"]
            j = FIELD_IDS_INDEX[f]
            why = []
            found = self._terms(i, POS, j)
            if found:
                why.append("terms: " + ", ".join(dict.fromkeys(found))[:120])
            if W is not None:
                learned = [self.names[col] for col, w in zip(top_cols[q], top_w[q]) if w > 0.05]
                if learned:
                    why.append("learned words: " + ", ".join(learned))
            cm = [code for fid, code in self.codes[i] if fid == f]
            if cm:
                why.append("codes: " + ", ".join(dict.fromkeys(cm)))
            strongest = [FEATURES[k].replace("_", " ") for k in self.strongest[i][j] if k >= 0]
            if strongest:
                why.append("strongest signals: " + ", ".join(strongest))
            parts.append(f"{f} {c['probability']:.2f} ({'; '.join(why)})")
        if not chosen:
            parts.append("none of the eight fields" + (" (" + INSUFFICIENT + ")" if weak else ""))
        negs = self._terms(i, NEG)
        if negs:
            parts.append("counter-evidence: " + ", ".join(dict.fromkeys(negs))[:120])
        return " | ".join(parts)

    def typology(self, i: int, typ: str, drivers: list[tuple[str, float]], trl: int | None) -> str:
        crit = "; ".join(c for c, _ in drivers) or "prior"
        cues = self._terms(i, TYP, TYPOLOGY_IDS.index(typ))
        t = f"typology {typ}: {crit}" + (f" (cues: {', '.join(dict.fromkeys(cues))[:100]})" if cues else "")
        if trl is not None:
            t += f"; TRL ≈ {trl} from " + ", ".join(dict.fromkeys(self._terms(i, TRL)))[:80]
        return t
