"""`hardtech resolve`: one organisation however many sources name it (entity resolution).

    hardtech resolve                         propose, merge at or above the threshold, queue the rest
    hardtech resolve review                  the pairs waiting for a decision
    hardtech resolve review --accept P --reject Q
    hardtech resolve undo MERGE_ID           split a merged record off again
    hardtech resolve merges [ORG]            what was merged, by whom, why
    hardtech resolve evaluate --labels F     pairwise precision and recall on labelled pairs
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from hardtech.errors import UsageError
from hardtech.presentation.cli.app import app
from hardtech.presentation.cli.output import Empty, Output, command, step_progress

ACTIONS = ("run", "review", "undo", "merges", "evaluate")


def _short_evidence(ev: str | None) -> str:
    if not ev:
        return ""
    try:
        e = json.loads(ev)
    except ValueError:
        return ev
    parts = [f"name: {e.get('name')}", f"ids: {e.get('ids')}", f"country: {e.get('country')}", f"kind: {e.get('kind')}"]
    return "; ".join(p for p in parts if not p.endswith("no data"))


@command(app, "resolve")
def resolve_cmd(
    action: str = typer.Argument("run", help="run | review | undo | merges | evaluate"),
    target: Optional[str] = typer.Argument(None, help="undo: the merge id; merges: an organisation id (optional)."),
    threshold: Optional[float] = typer.Option(None, "--threshold",
                                              help="Merge at or above this match probability (default: "
                                                   "data/resolve/resolve.toml)."),
    review_floor: Optional[float] = typer.Option(None, "--review-floor",
                                                 help="Queue for review from this probability up to the threshold."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Propose and count, change nothing."),
    accept: Optional[List[str]] = typer.Option(None, "--accept", help="review: merge this pair (repeatable)."),
    reject: Optional[List[str]] = typer.Option(None, "--reject", help="review: never merge this pair (repeatable)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: the login name); recorded."),
    status: str = typer.Option("open", "--status", help="review: open | accepted | rejected | stale | all; "
                                                        "merges: applied | undone | all."),
    labels: Optional[Path] = typer.Option(None, "--labels", help="evaluate: CSV of labelled pairs "
                                                                 "(record_a, record_b, match[, split, stratum])."),
    limit: int = typer.Option(50, "--limit", help="At most this many rows."),
    *, out: Output,
) -> None:
    """Entity resolution: merge records of one organisation across sources, review the uncertain, undo."""
    from hardtech.services import resolve as R

    if action not in ACTIONS:
        raise UsageError(f"unknown action {action!r}; use one of: {', '.join(ACTIONS)}")
    if action == "run":
        t = out.t
        with step_progress(out.console, t("progress.resolve"), out.lang) as advance:
            r = R.resolve_store(out.db, threshold, review_floor, by, dry_run, progress=advance)
        rows = [{"records": r["records"]["organizations"], "patent_applicants": r["records"]["applicants"],
                 "name_rows": r["records"]["name_rows"], "pairs_scored": r["pairs"], "merged": r["merged"],
                 "applicants_linked": r["linked"], "to_review": r["review"],
                 "threshold": r.get("threshold"), "seconds": round(r["seconds"], 1)}]
        title = "title.resolve_dry" if dry_run else "title.resolve"
        out.emit(rows, title=t(title, db=out.db, threshold=r.get("threshold")))
        if not r["records"]["name_rows"]:
            out.message(t("msg.resolve_no_names"))
        elif r["review"]:
            out.message(t("msg.resolve_wait", n=r["review"]))
        elif not r["pairs"]:
            out.message(t("msg.resolve_nothing"))
        return
    if action == "review":
        if accept or reject:
            out.emit(R.review_decide(out.db, list(accept or []), list(reject or []), by),
                     title=out.t("title.review_decisions"))
            return
        rows = R.review_rows(out.db, status, limit)
        for r in rows:
            r["evidence"] = _short_evidence(r.get("evidence"))
        out.emit(rows, title=out.t("title.review", status=status),
                 empty=Empty(key="empty.review", args={"status": status}),
                 columns=["pair_id", "probability", "name_a", "name_b", "record_a", "record_b", "reason", "evidence",
                          "status"])
        return
    if action == "undo":
        if not target:
            raise UsageError("`resolve undo` needs a merge id (see `hardtech resolve merges`)")
        r = R.undo(out.db, target, by)
        moved = sum(r["rows_moved_back"].values())
        out.emit([{"merge_id": r["merge_id"], "split_off": r["split_off"], "from": r["from"],
                   "with_it": ", ".join(r["with"]), "rows_moved_back": moved}], title=out.t("title.merge_undone"))
        out.message(out.t("msg.undo_rejected"))
        return
    if action == "merges":
        rows = R.merge_rows(out.db, target, status if status != "open" else "applied", limit)
        for r in rows:
            r["evidence"] = _short_evidence(r.get("evidence"))
        out.emit(rows, title=out.t("title.merges"),
                 empty=Empty(key="empty.merges_for" if target else "empty.merges", args={"target": target}))
        return
    if not labels:
        raise UsageError("`resolve evaluate` needs --labels FILE (e.g. evaluation/resolve/org_pairs.csv)")
    res = R.evaluate_labels(out.db, labels)
    if res["not_in_store"]:
        out.message(out.t("msg.resolve_eval_absent", n=res["not_in_store"], pairs=res["pairs"]))
    out.emit(R.evaluation_rows(res), title=out.t("title.resolve_eval", labels=labels))
