"""The writes the fault-injection test runs, in a killable child process or in the test's own process.

Kept in its own module so that a forkserver child can import it by name (fast: the server has the
store modules loaded already).
"""

from __future__ import annotations

import os

PRELOAD = ["hardtech.store.importer", "hardtech.services.scoring", "hardtech.analytics.hardness",
           "hardtech.store.integrity", "fault_actions"]


def run(db: str, action: tuple, fault_sleep: float = 0.0) -> None:
    """One action on the store at `db`: ("import", table, path) or ("score",)."""
    if fault_sleep:
        os.environ["HARDTECH_FAULT_SLEEP"] = str(fault_sleep)
    kind = action[0]
    if kind == "import":
        from hardtech.store.connection import Store
        from hardtech.store.importer import import_file

        _, table, path = action
        with Store(db) as store:
            import_file(store, table, path)
    elif kind == "score":
        from hardtech.services.scoring import score_rows

        score_rows(db, save=True)
    else:  # pragma: no cover - the test only builds the kinds above
        raise ValueError(kind)
