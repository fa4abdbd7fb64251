"""Shared fixtures: a fresh store per test, and the third-party data in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HARDTECH_SHARED", ROOT.parent / "shared" / "data"))


def shared_file(name: str) -> Path:
    """A file from ../shared/data; skipped with a reason when absent, a failure under CI=true."""
    path = SHARED / name
    if not path.exists():
        msg = f"third-party data {path} is absent (it lives in ../shared/data beside the project)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture
def shared():
    return shared_file


@pytest.fixture
def store(tmp_path):
    from hardtech.store.connection import Store

    s = Store(tmp_path / "t.duckdb")
    yield s
    s.close()


@pytest.fixture
def db(tmp_path):
    return tmp_path / "cli.duckdb"


def demo_base_path(tmp_path_factory) -> Path:
    """The demo store, built once per test session without ../shared (bundled data only; most of a minute).

    Tests copy it (`build_demo_store(db, shared, base=...)` copies it and adds the funding data when
    `shared` is given) instead of building their own.
    """
    from hardtech.demo import build_demo_store

    db = tmp_path_factory.getbasetemp() / "demo-base" / "demo.duckdb"
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        build_demo_store(db, shared=None)
    return db


@pytest.fixture(scope="session")
def demo_base(tmp_path_factory):
    return demo_base_path(tmp_path_factory)
