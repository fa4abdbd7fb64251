"""What every chapter needs to know: the store, the language, the scope's organisations, names, provenance.

Built once per report from one service call (`services.report_data.population`: names, latest fields, places)
over the store the paper opened once (`ctx.store`, on the chosen engine);
chapters then filter the service functions' rows by `in_scope` instead of asking the store again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hardtech.presentation.report.i18n import Translator
from hardtech.presentation.report.scope import Scope
from hardtech.services.report_data import ORG_COLUMN  # noqa: F401 - the tables behind the synthetic banner


@dataclass
class Ctx:
    db: Path  # the store's file or folder: its label on the paper
    t: Translator
    scope: Scope
    names: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    fields: dict[str, list[str]] = field(default_factory=dict)
    org_ids: frozenset[str] | None = None  # None: the whole store
    table_counts: dict[str, tuple[int, int]] = field(default_factory=dict)  # table -> (rows, synthetic) in scope
    figures: dict = field(default_factory=dict)
    missing: list[tuple[str, str]] = field(default_factory=list)
    store: Any = None  # the store opened once for the paper (DuckDB or Spark): every chapter's services read it

    def name(self, org_id: str, fallback: str | None = None) -> str:
        en, zh = self.names.get(org_id, (None, None))
        first = (zh or en) if self.t.lang == "zh" else (en or zh)
        return first or fallback or org_id

    def in_scope(self, org_id: str | None) -> bool:
        return self.org_ids is None or org_id in self.org_ids

    def miss(self, chapter: str, text: str) -> str:
        self.missing.append((chapter, text))
        return text

    def synthetic(self, tables: tuple[str, ...]) -> dict | None:
        """{n, of} synthetic rows among the rows of `tables` in scope, or None when none is synthetic."""
        n = sum(self.table_counts.get(tb, (0, 0))[1] for tb in tables)
        total = sum(self.table_counts.get(tb, (0, 0))[0] for tb in tables)
        return {"n": n, "of": total} if n else None


def build_context(store, t: Translator, scope: Scope, db: str | Path) -> Ctx:
    from hardtech.services.report_data import population

    ctx = Ctx(db=Path(db), t=t, scope=scope, store=store)
    pop = population(store, scope.fields, scope.regions)
    ctx.names, ctx.fields = pop["names"], pop["fields"]
    ctx.org_ids, ctx.table_counts = pop["org_ids"], pop["table_counts"]
    return ctx
