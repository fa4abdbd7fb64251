"""Entity resolution services: propose and apply merges, the review queue, undo, history, evaluation.

`resolve_store` runs the whole pass: the name rows of every organisation and unlinked patent applicant
(`store.resolve.records`), the Splink model's probabilities for every blocked pair (`store.resolve.model`),
the decisions (`analytics.resolve.clusters`: merge at or above the threshold, review between the floor
and the threshold, reviewers' rejections respected), and their application in one transaction
(`store.resolve.merges`). Running it again proposes nothing new unless the data changed.
"""

from __future__ import annotations

import csv
import functools
import getpass
import hashlib
import json
import time
import tomllib
from importlib import resources
from pathlib import Path

from hardtech.errors import UsageError
from hardtech.store.connection import Store
from hardtech.store.resolve import lookups
from hardtech.store.resolve import review as review_table

AUTOMATIC = "hardtech resolve"


@functools.lru_cache(maxsize=1)
def thresholds() -> dict:
    with open(str(resources.files("hardtech.data") / "resolve" / "resolve.toml"), "rb") as f:
        d = tomllib.load(f)
    return {"threshold": float(d["threshold"]), "review_floor": float(d["review_floor"]), "version": d["version"]}


def who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser() or "unknown"
    except Exception:  # noqa: BLE001 - no login name (containers): say so rather than fail
        return "unknown"


def _evidence(row: dict, labels: dict) -> str:
    def lab(comp: str) -> str:
        g = row[f"gamma_{comp}"]
        return "no data" if g is None or g < 0 else labels[comp].get(g, str(g))

    ev = {"name": lab("name"), "names": [row["name_a"], row["name_b"]], "ids": lab("ids"),
          "country": lab("country"), "kind": lab("kind"), "match_weight": round(float(row["match_weight"]), 2)}
    if row.get("country_l") or row.get("country_r"):
        ev["countries"] = sorted({c for c in (row.get("country_l"), row.get("country_r")) if c})
    return json.dumps(ev, ensure_ascii=False)


def _proposals(con) -> list:
    from hardtech.analytics.resolve.clusters import Proposal
    from hardtech.store.resolve.model import level_labels
    from hardtech.store.resolve.pairs import pair_rows

    labels = level_labels()
    out = []
    for row in pair_rows(con):
        out.append(Proposal(row["record_a"], row["record_b"], float(row["probability"]), row["kind_a"], row["kind_b"],
                            row["name_a"] or "", row["name_b"] or "", _evidence(row, labels)))
    return out


def _unique_ids(con) -> dict[str, dict[str, set[str]]]:
    from hardtech.sources.identifiers import load_id_rules

    unique = load_id_rules().unique
    out: dict[str, dict[str, set[str]]] = {}
    for rec, ids in lookups.record_identifiers(con):
        for i in ids or []:
            scheme = i.split(":", 1)[0]
            if scheme in unique:
                out.setdefault(rec, {}).setdefault(scheme, set()).add(i)
    return out


def _rejected(con) -> set[frozenset[str]]:
    return {frozenset(r) for r in lookups.rejected_pairs(con)}


def resolve_store(db: Path, threshold: float | None = None, review_floor: float | None = None, by: str | None = None,
                  dry_run: bool = False, progress=None) -> dict:
    """One resolution pass over the store. Returns counts, timings and what was merged."""
    from hardtech.analytics.resolve.clusters import decide
    from hardtech.sources.identifiers import canonical_rank
    from hardtech.store.resolve import merges as MG
    from hardtech.store.resolve.model import load_model, model_version, predict_pairs
    from hardtech.store.resolve.pairs import drop_pairs
    from hardtech.store.resolve.records import build_records

    say = progress or (lambda step, done, total: None)
    cfg = thresholds()
    thr = cfg["threshold"] if threshold is None else float(threshold)
    floor = cfg["review_floor"] if review_floor is None else float(review_floor)
    if not 0 < thr <= 1 or not 0 <= floor <= thr:
        raise UsageError(f"need 0 <= review floor ({floor}) <= threshold ({thr}) <= 1")
    t0 = time.perf_counter()
    timings = {}
    with Store(db) as store:
        con = store.con
        say("normalising names", 0, 4)
        counts = build_records(con)
        timings["records_s"] = time.perf_counter() - t0
        if counts["name_rows"] == 0:
            return {"records": counts, "pairs": 0, "merged": 0, "linked": 0, "review": 0, "threshold": thr,
                    "review_floor": floor, "dry_run": dry_run, "seconds": time.perf_counter() - t0, "timings": timings,
                    "merges": []}
        say("scoring pairs (Splink)", 1, 4)
        t1 = time.perf_counter()
        predict_pairs(con, load_model(), min(floor, thr))
        proposals = _proposals(con)
        timings["predict_s"] = time.perf_counter() - t1
        say("deciding", 2, 4)
        t2 = time.perf_counter()
        members = MG.members_of(con)
        d = decide(proposals, thr, floor, _unique_ids(con), members, _rejected(con), canonical_rank)
        timings["decide_s"] = time.perf_counter() - t2
        version = model_version()
        merges = [MG.Merge(f, i, "organization", p.probability if p else None, p.evidence if p else None,
                           _name(p, f), _name(p, i)) for f, i, p in d.merges]
        links = [MG.Merge(a, o, "patent_applicant", p.probability, p.evidence, _name(p, a), _name(p, o))
                 for a, o, p in d.links]
        say("applying", 3, 4)
        t3 = time.perf_counter()
        if not dry_run:
            with store.transaction():
                MG.apply_merges(con, merges, AUTOMATIC, thr, version)
                MG.apply_links(con, links, AUTOMATIC, thr, version)
                _write_review(con, d.review, version)
        timings["apply_s"] = time.perf_counter() - t3
        drop_pairs(con)
    return {"records": counts, "pairs": len(proposals), "merged": len(merges), "linked": len(links),
            "review": len(d.review), "threshold": thr, "review_floor": floor, "dry_run": dry_run,
            "seconds": time.perf_counter() - t0, "timings": timings, "model_version": version,
            "merges": [{"from": m.from_id, "into": m.into_id, "probability": m.probability} for m in merges[:50]]}


def _name(p, rec: str) -> str | None:
    if p is None:
        return None
    return p.name_a if p.a == rec else p.name_b if p.b == rec else None


def pair_id(a: str, b: str) -> str:
    x, y = sorted((a, b))
    return "p-" + hashlib.sha1(f"{x}|{y}".encode()).hexdigest()[:12]


def _write_review(con, review, version: str) -> None:
    """The review queue, between surviving records (a pair of two merged-away ids shows as their organisations),
    one row per pair, the most probable evidence kept."""
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    review_table.mark_open_stale(con)
    redirect = lookups.redirects(con)
    rows = {}
    for p, reason in sorted(review, key=lambda x: -x[0].probability):
        a, b = redirect.get(p.a, p.a), redirect.get(p.b, p.b)
        na, nb = p.name_a, p.name_b
        if a == b:
            continue
        if b.startswith("patent-applicant:") or (not a.startswith("patent-applicant:") and b < a):
            a, b, na, nb = b, a, nb, na
        pid = pair_id(a, b)
        if pid not in rows:
            rows[pid] = {"pair_id": pid, "record_a": a, "record_b": b, "name_a": na, "name_b": nb,
                         "probability": p.probability, "evidence": p.evidence, "reason": reason, "status": "open",
                         "proposed_at": now, "model_version": version}
    if not rows:
        return
    # a pair already decided keeps its decision; the others are (re)opened with today's evidence
    review_table.write_review(con, list(rows.values()))


# -------------------------------------------------------------------------------------------- review

def review_rows(db: Path, status: str = "open", limit: int = 50) -> list[dict]:
    with Store(db, read_only=True) as store:
        return review_table.review_rows(store.con, status, limit)


def review_decide(db: Path, accept: list[str], reject: list[str], by: str | None = None) -> list[dict]:
    """Accept (merge now) or reject (never merge) review pairs; decisions are remembered."""
    import datetime as dt

    from hardtech.sources.identifiers import canonical_rank
    from hardtech.store.resolve import merges as MG
    from hardtech.store.resolve.model import model_version

    by = who(by)
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    out = []
    with Store(db) as store:
        con = store.con
        with store.transaction():
            for pid, decision in [(p, "accept") for p in accept] + [(p, "reject") for p in reject]:
                row = review_table.review_pair(con, pid)
                if not row:
                    raise UsageError(f"no review pair {pid!r}; list them with `hardtech resolve review`")
                a, b, na, nb, prob, ev, status = row
                if status in ("accepted", "rejected"):
                    raise UsageError(f"pair {pid} was already {status}")
                x, y = sorted((a, b))
                review_table.record_decision(con, x, y, decision, by, now, pid)
                result = {"pair_id": pid, "decision": decision, "record_a": a, "record_b": b}
                if decision == "accept":
                    redirect = lookups.redirects(con)
                    ca, cb = redirect.get(a, a), redirect.get(b, b)
                    if ca == cb:
                        result["note"] = "already together"
                    elif a.startswith("patent-applicant:"):
                        MG.apply_links(con, [MG.Merge(a, cb, "patent_applicant", prob, ev, na, nb, "accepted")],
                                       by, None, model_version(), now)
                        result["merged_into"] = cb
                    else:
                        _check_no_conflict(con, ca, cb)
                        keep, other = sorted((ca, cb), key=canonical_rank)
                        MG.apply_merges(con, [MG.Merge(other, keep, "organization", prob, ev,
                                                       nb if other == cb else na, na if other == cb else nb,
                                                       "accepted")], by, None, model_version(), now)
                        result["merged_into"] = keep
                review_table.set_status(con, pid, "accepted" if decision == "accept" else "rejected")
                out.append(result)
    return out


def _check_no_conflict(con, a: str, b: str) -> None:
    from hardtech.sources.identifiers import load_id_rules, org_identifiers

    unique = load_id_rules().unique
    got = {}
    for oid, ex, tk, ids in lookups.identifier_rows(con, a, b):
        got[oid] = {i for i in org_identifiers(oid, ex, tk, ids) if i.split(":", 1)[0] in unique}
    sa, sb = got.get(a, set()), got.get(b, set())
    schemes = {i.split(":", 1)[0] for i in sa} & {i.split(":", 1)[0] for i in sb}
    for s in schemes:
        if {i for i in sa if i.startswith(s + ":")} != {i for i in sb if i.startswith(s + ":")}:
            raise UsageError(f"{a} and {b} carry different {s} ids: they are two organisations by that scheme; "
                             "reject the pair, or remove the wrong id and run `hardtech resolve` again")


# -------------------------------------------------------------------------------------------- undo, history

def undo(db: Path, merge_id: str, by: str | None = None) -> dict:
    from hardtech.store.resolve.merges import undo_merge

    with Store(db) as store:
        with store.transaction():
            return undo_merge(store.con, merge_id, who(by))


def merge_rows(db: Path, org: str | None = None, status: str = "applied", limit: int = 100) -> list[dict]:
    from hardtech.store.resolve.history import merge_rows as _merge_rows

    with Store(db, read_only=True) as store:
        return _merge_rows(store.con, org, status, limit)


# -------------------------------------------------------------------------------------------- evaluation

def read_labels(path: Path) -> list[dict]:
    path = Path(path)
    if not path.exists():
        raise UsageError(f"no labels file {path}")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    need = {"record_a", "record_b", "match"}
    if rows and not need <= set(rows[0]):
        raise UsageError(f"{path.name} needs the columns {', '.join(sorted(need))} (and optionally split, stratum)")
    return rows


def evaluate_labels(db: Path, labels: Path) -> dict:
    """Pairwise precision and recall of the store's current merges on labelled pairs: a pair is predicted to
    match when both records now belong to the same organisation."""
    rows = read_labels(labels)
    with Store(db, read_only=True) as store:
        redirect = lookups.redirects(store.con)
        orgs = lookups.organisation_ids(store.con)
        apps = {"patent-applicant:" + r for r in _applicants(store.con)}
    present = orgs | set(redirect) | apps

    def canon(x: str) -> str:
        return redirect.get(x, x)

    groups: dict[str, dict] = {}
    missing = 0
    for r in rows:
        a, b = r["record_a"], r["record_b"]
        if a not in present or b not in present:
            missing += 1
            continue
        y = int(r["match"])
        pred = int(canon(a) == canon(b))
        split, stratum = r.get("split") or "all", r.get("stratum") or "-"
        for key in ("all", f"split:{split}", f"stratum:{stratum}", f"split:{split}|stratum:{stratum}"):
            g = groups.setdefault(key, {"tp": 0, "fp": 0, "fn": 0, "tn": 0})
            g[("tp" if y else "fp") if pred else ("fn" if y else "tn")] += 1
    out = {"pairs": len(rows), "not_in_store": missing, "groups": {}}
    for key, g in sorted(groups.items()):
        p = g["tp"] / (g["tp"] + g["fp"]) if g["tp"] + g["fp"] else None
        rc = g["tp"] / (g["tp"] + g["fn"]) if g["tp"] + g["fn"] else None
        out["groups"][key] = {**g, "precision": p, "recall": rc,
                              "f1": 2 * p * rc / (p + rc) if p and rc else None}
    return out


def _applicants(con) -> set[str]:
    from hardtech.sources.applicants import first_applicant

    return {f for t in lookups.applicant_texts(con) if (f := first_applicant(t))}


def evaluation_rows(result: dict) -> list[dict]:
    rows = []
    for key, g in result["groups"].items():
        if "|" in key:  # split × stratum: in the JSON result, too fine for the table
            continue
        rows.append({"group": key, "pairs": g["tp"] + g["fp"] + g["fn"] + g["tn"], "matches": g["tp"] + g["fn"],
                     "true_pos": g["tp"], "false_pos": g["fp"], "false_neg": g["fn"],
                     "precision": None if g["precision"] is None else round(g["precision"], 3),
                     "recall": None if g["recall"] is None else round(g["recall"], 3)})
    return rows
