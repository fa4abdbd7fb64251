"""Numbered schema migrations. A store records each one it has applied.

Add a migration by appending to `MIGRATIONS` (never edit one that has shipped): an old store
opened by a newer hardtech is brought forward inside a transaction; a newer store opened by an
older hardtech is refused rather than misread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from hardtech.schema import TABLES, Table


def create_table_sql(t: Table) -> str:
    cols = ",\n  ".join(f'"{c.name}" {c.type}' for c in t.all_columns)
    return f'CREATE TABLE IF NOT EXISTS "{t.name}" (\n  {cols}\n)'


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    build: Callable[[], list[str]]

    def statements(self) -> list[str]:
        return self.build()


V1_TABLES = ("organizations", "financials", "patents", "funding_rounds", "investors", "regions", "rejects", "imports")


def _v1() -> list[str]:
    stmts = [
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER, description VARCHAR, applied_at TIMESTAMP)",
    ]
    stmts += [create_table_sql(TABLES[t]) for t in V1_TABLES]
    return stmts


def _v2() -> list[str]:
    return [create_table_sql(TABLES["classifications"])]


def _v3() -> list[str]:
    return [create_table_sql(TABLES["scores"])]


def _v4() -> list[str]:
    return [create_table_sql(TABLES["api_tokens"]), create_table_sql(TABLES["watchlists"])]


def _v5() -> list[str]:
    """New columns on stores made before them (a store created now has them from migration 1: IF NOT EXISTS)."""
    from hardtech.schema import IP_COUNT_COLUMNS

    stmts = [f'ALTER TABLE "{t.name}" ADD COLUMN IF NOT EXISTS source_licence VARCHAR'
             for t in TABLES.values() if t.provenance and t.name in V1_TABLES]
    stmts += [f'ALTER TABLE financials ADD COLUMN IF NOT EXISTS "{c}" BIGINT' for c in IP_COUNT_COLUMNS]
    stmts.append("ALTER TABLE organizations ADD COLUMN IF NOT EXISTS listed DATE")
    return stmts


def _v6() -> list[str]:
    return [create_table_sql(TABLES["publications"])]


def _v7() -> list[str]:
    # `identifiers` joins organizations (stores made before this version get it appended); the content hash covers
    # every data column, so it is recomputed for the rows already there, or re-importing them would count as changes.
    from hardtech.store.importer import _hash_sql

    org = TABLES["organizations"]
    return [
        'ALTER TABLE organizations ADD COLUMN IF NOT EXISTS identifiers VARCHAR[]',
        f"UPDATE organizations SET content_hash = {_hash_sql(org.data_names)}",
    ] + [create_table_sql(TABLES[t]) for t in ("resolve_merges", "resolve_review", "resolve_decisions",
                                                "org_originals", "resolve_row_origins", "org_redirects")]


def _v10() -> list[str]:
    # a fresh store already has the column (v1 creates the tables as declared today): IF NOT EXISTS
    return ["ALTER TABLE funding_rounds ADD COLUMN IF NOT EXISTS amount_approx BOOLEAN"]


def _v11() -> list[str]:
    return [create_table_sql(TABLES[t]) for t in ("investor_profiles", "investor_profile_items",
                                                  "investor_profile_state")]


MIGRATIONS: list[Migration] = [
    Migration(1, "initial data model: organizations, financials, patents, funding_rounds, investors, regions, rejects, imports", _v1),
    Migration(2, "classifications: saved verdicts of the classifier, per model version", _v2),
    Migration(3, "scores: hardness scores per organisation, year and weights version", _v3),
    Migration(4, "api_tokens and watchlists: hashed API tokens for writes over HTTP, saved watchlists", _v4),
    Migration(5, "source_licence on every data table; patent-filing and trademark counts by office in financials; "
                 "organizations.listed (listing date)", _v5),
    Migration(6, "publications: scientific works per affiliated institution (OpenAlex connector)", _v6),
    Migration(7, "entity resolution: organizations.identifiers, resolve_merges, resolve_review, resolve_decisions, "
                 "org_originals, resolve_row_origins, org_redirects", _v7),
    Migration(10, "funding_rounds.amount_approx: an amount the source gives as approximate (约1亿)", _v10),
    Migration(11, "investor_profiles, investor_profile_items, investor_profile_state: investor matching's "
                  "profiles, computed once in the engine", _v11),
]
SCHEMA_VERSION = MIGRATIONS[-1].version
