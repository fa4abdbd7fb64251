"""From scored pairs to decisions: which records merge, which patent applicants link, what waits for review.

Pure Python over plain values, so the rules are testable without a store:

- pairs a reviewer rejected are never merged again, nor are the organisations they have become part of
  (a rejection is remembered between the original records, whatever they were merged into since);
- organisations merge greedily from the most probable pair down, as long as the probability reaches
  the threshold and the merged organisation would not hold two different values of an identifier that
  is unique per organisation (two JRC ids, two CIKs, two A-share codes): such a pair goes to review
  with the reason, which stops a chain of plausible pairs from joining two different companies;
- a patent applicant links to the organisation it matches at or above the threshold; when it matches
  several organisations about as well (within a factor 16 in odds) it waits for review instead, and it
  never bridges two organisations;
- pairs between the review floor and the threshold that did not end up together wait for review.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Proposal:
    a: str
    b: str
    probability: float
    kind_a: str = "organization"
    kind_b: str = "organization"
    name_a: str = ""
    name_b: str = ""
    evidence: str = "{}"


@dataclass
class Decisions:
    merges: list[tuple[str, str, Proposal | None]] = field(default_factory=list)  # (from, into, why)
    links: list[tuple[str, str, Proposal]] = field(default_factory=list)  # (applicant record, org, why)
    review: list[tuple[Proposal, str]] = field(default_factory=list)


class _Components:
    def __init__(self, unique_ids: dict[str, dict[str, set[str]]], members: dict[str, set[str]]):
        self.parent: dict[str, str] = {}
        self.ids = unique_ids
        self.members = members

    def find(self, x: str) -> str:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def conflict(self, ra: str, rb: str) -> str | None:
        ia, ib = self.ids.get(ra, {}), self.ids.get(rb, {})
        for scheme in set(ia) & set(ib):
            if ia[scheme] != ib[scheme]:
                a, b = sorted(ia[scheme])[0], sorted(ib[scheme])[0]
                return f"would put two different {scheme} ids in one organisation ({scheme}:{a.split(':', 1)[-1]}, " \
                       f"{scheme}:{b.split(':', 1)[-1]})"
        return None

    def union(self, ra: str, rb: str) -> None:
        self.parent[rb] = ra
        merged = {k: set(v) for k, v in self.ids.get(ra, {}).items()}
        for k, v in self.ids.get(rb, {}).items():
            merged.setdefault(k, set()).update(v)
        self.ids[ra] = merged
        self.members[ra] = self.members.get(ra, {ra}) | self.members.get(rb, {rb})


def _log_odds(p: float) -> float:
    import math

    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log2(p / (1 - p))


def _rejected_between(members_a: set[str], members_b: set[str], rejected: set[frozenset[str]]) -> bool:
    if not rejected:
        return False
    return any(frozenset((x, y)) in rejected for x in members_a for y in members_b)


def decide(proposals: list[Proposal], threshold: float, floor: float,
           unique_ids: dict[str, dict[str, set[str]]], members: dict[str, set[str]],
           rejected: set[frozenset[str]], rank) -> Decisions:
    """Decide merges, links and the review queue.

    `unique_ids[record]` = {scheme: {ids}} of the unique schemes a record (with its merged members) holds;
    `members[record]` = the original record ids it stands for (itself and what was merged into it);
    `rejected` = pairs of original record ids a reviewer rejected; `rank(org_id)` orders the ids that may
    survive a merge (lowest first).
    """
    out = Decisions()
    comps = _Components({k: {s: set(v) for s, v in d.items()} for k, d in unique_ids.items()},
                        {k: set(v) for k, v in members.items()})
    ordered = sorted(proposals, key=lambda p: (-p.probability, p.a, p.b))
    org_pairs, app_pairs = [], []
    for p in ordered:
        (org_pairs if p.kind_a == "organization" and p.kind_b == "organization" else app_pairs).append(p)
    for p in org_pairs:
        if p.probability < threshold:
            break
        ra, rb = comps.find(p.a), comps.find(p.b)
        if ra == rb:
            continue
        if _rejected_between(comps.members.get(ra, {ra}), comps.members.get(rb, {rb}), rejected):
            continue
        why = comps.conflict(ra, rb)
        if why:
            out.review.append((p, why))
            continue
        keep, other = sorted((ra, rb), key=rank)
        comps.union(keep, other)
    # every component's surviving id, chosen among its records; each merge keeps the most probable pair
    # that brought its record in as the evidence
    why: dict[str, Proposal] = {}
    for p in org_pairs:
        if p.probability < threshold:
            break
        why.setdefault(p.a, p)
        why.setdefault(p.b, p)
    groups: dict[str, list[str]] = {}
    for x in list(comps.parent):
        groups.setdefault(comps.find(x), []).append(x)
    for root, recs in groups.items():
        recs = sorted(set(recs) | {root}, key=rank)
        keep = recs[0]
        for r in recs[1:]:
            out.merges.append((r, keep, why.get(r)))
    final = {r: keep for r, keep, _ in out.merges}

    def canon(x: str) -> str:
        return final.get(x, x)

    # patent applicants: one organisation each, or review
    by_app: dict[str, list[Proposal]] = {}
    for p in app_pairs:
        app = p.a if p.kind_a == "patent_applicant" else p.b
        by_app.setdefault(app, []).append(p)
    for app, ps in sorted(by_app.items()):
        ok = []
        for p in ps:
            org = p.b if p.a == app else p.a
            if p.probability >= threshold and not _rejected_between({app}, comps.members.get(comps.find(org), {org}),
                                                                     rejected):
                ok.append((canon(org), p))
        best: dict[str, Proposal] = {}
        for o, p in ok:
            if o not in best or p.probability > best[o].probability:
                best[o] = p
        ranked = sorted(best.items(), key=lambda x: -x[1].probability)
        if not ranked:
            continue
        # the best organisation wins when it is clearly more likely than the next (odds 16 times higher)
        if len(ranked) == 1 or _log_odds(ranked[0][1].probability) - _log_odds(ranked[1][1].probability) >= 4:
            out.links.append((app, ranked[0][0], ranked[0][1]))
        else:
            names = ", ".join(o for o, _ in ranked[:4])
            for _, p in ranked:
                out.review.append((p, f"the applicant matches several organisations ({names})"))
    linked = {app: org for app, org, _ in out.links}
    reviewed = {(p.a, p.b) for p, _ in out.review}
    for p in ordered:
        if p.probability >= threshold or p.probability < floor or (p.a, p.b) in reviewed:
            continue
        if p.kind_a == "organization" and p.kind_b == "organization":
            if canon(p.a) == canon(p.b):
                continue
            if _rejected_between(comps.members.get(comps.find(p.a), {p.a}), comps.members.get(comps.find(p.b), {p.b}),
                                 rejected):
                continue
        else:
            app, org = (p.a, p.b) if p.kind_a == "patent_applicant" else (p.b, p.a)
            if linked.get(app) == canon(org) or _rejected_between({app}, {org}, rejected):
                continue
        out.review.append((p, "probability below the merge threshold"))
    return out
