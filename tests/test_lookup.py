"""One rule for finding an organisation or investor by what a user types (analytics/lookup.py)."""

from __future__ import annotations

import pytest

from hardtech.analytics.lookup import find, matches, missing
from hardtech.errors import NotFound, UsageError


@pytest.fixture
def orgs(store):
    store.con.execute(
        "INSERT INTO organizations (org_id, name_en, name_zh, aliases, source_name, imported_at) VALUES "
        "('a', 'Huawei', '华为', ['HW', 'Hua Wei Tech'], 't', now()), ('b', 'Other', NULL, NULL, 't', now()), "
        "('c', 'hw', NULL, [], 't', now())")
    return store.table("organizations")


def test_id_names_and_aliases(orgs):
    assert matches(orgs, "hua wei tech", "org_id") == ["a"]  # alias, any case
    assert matches(orgs, "华为", "org_id") == ["a"]
    assert matches(orgs, "HUAWEI", "org_id") == ["a"]
    assert matches(orgs, "b", "org_id") == ["b"]
    assert matches(orgs, "zzz", "org_id") == []


def test_ambiguous_name_lists_ids_and_exact_id_wins(orgs):
    with pytest.raises(UsageError, match="matches several organisations: a, c"):
        find(orgs, "HW")
    assert find(orgs, "c") == "c"


def test_no_match_suggests_near_names(orgs):
    with pytest.raises(NotFound, match=r"did you mean: Huawei \(a\)"):
        find(orgs, "Hua")


def test_missing_keeps_the_order_given(orgs):
    assert missing(orgs, ["x", "a", "y"]) == ["x", "y"]
