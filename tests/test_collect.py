"""`collect`: a long file (one CPC code per row, like PatentsView's g_cpc_current) folded into one row per key."""

from __future__ import annotations

import random

import pytest

from hardtech.errors import MappingError
from hardtech.sources.mapping import parse_mapping
from hardtech.store.importer import import_file

CPC = parse_mapping({"name": "g_cpc_current", "targets": {"patents": {
    "collect": "cpc_codes", "order_by": "cpc_sequence",
    "columns": {"publication_number": {"template": "US{patent_id}"}, "cpc_codes": "cpc_group",
                "office": {"value": "US"}}}}})
HEADER = ["patent_id", "cpc_sequence", "cpc_section", "cpc_class", "cpc_subclass", "cpc_group", "cpc_type"]


def rows_for(n_patents: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for p in range(n_patents):
        for seq in range(rng.randint(1, 5)):
            sub = rng.choice(["G06N", "H01L", "A61K", "Y02E"])
            rows.append([str(10_000_000 + p), str(seq), sub[0], sub[:3], sub, f"{sub}{rng.randint(1, 99)}/{rng.randint(0, 999):02d}",
                         rng.choice(["inventive", "additional"])])
    return rows


def write_tsv(path, rows):
    path.write_text("\t".join(f'"{h}"' for h in HEADER) + "\n"
                    + "".join("\t".join(f'"{v}"' for v in r) + "\n" for r in rows), encoding="utf-8")
    return path


def patents(store):
    return dict(store.con.execute("SELECT publication_number, cpc_codes FROM patents").fetchall())


def test_a_grouped_file_and_the_same_rows_shuffled_give_the_same_patents(store, tmp_path):
    rows = rows_for(300)
    r = import_file(store, "patents", write_tsv(tmp_path / "sorted.tsv", rows), mapping=CPC)
    assert r.rejected == 0 and r.targets[0].inserted == 300 and r.targets[0].merged == len(rows) - 300
    want = {}
    for pid, seq, *_, grp, _typ in rows:
        want.setdefault(f"US{pid}", []).append((int(seq), grp))
    want = {k: [g for _, g in sorted(v)] for k, v in want.items()}
    assert patents(store) == want
    first = store.con.execute("SELECT source_line, office FROM patents WHERE publication_number = 'US10000001'").fetchone()
    assert first[1] == "US" and first[0] == 2 + next(i for i, r in enumerate(rows) if r[0] == "10000001")
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    store.con.execute("DELETE FROM patents")
    import_file(store, "patents", write_tsv(tmp_path / "shuffled.tsv", shuffled), mapping=CPC)
    assert patents(store) == want
    assert import_file(store, "patents", tmp_path / "shuffled.tsv", mapping=CPC).targets[0].unchanged == 300


def test_each_row_is_checked_and_a_bad_row_leaves_the_others_of_its_patent(store, tmp_path):
    rows = rows_for(5)
    bad = {3: ("cpc_group", "NOT A CODE"), 5: ("cpc_sequence", "first"), 7: ("patent_id", "")}
    for i, (col, val) in bad.items():
        rows[i][HEADER.index(col)] = val
    r = import_file(store, "patents", write_tsv(tmp_path / "c.tsv", rows), mapping=CPC)
    got = {x["line"]: x["column_name"] for x in r.rejects}
    assert got == {5: "cpc_group", 7: "cpc_sequence", 9: "patent_id"}  # a row's fault names the file's column
    kept = patents(store)[f"US{rows[3][0]}"]
    same = [r_[5] for j, r_ in enumerate(rows) if r_[0] == rows[3][0] and j not in bad]
    assert sorted(kept) == sorted(same)


def test_codes_collected_onto_stored_patents_never_blank_their_titles(store, tmp_path):
    rows = rows_for(3)
    (tmp_path / "p.csv").write_text("publication_number,title\nUS10000000,A title\n", encoding="utf-8")
    import_file(store, "patents", tmp_path / "p.csv")
    import_file(store, "patents", write_tsv(tmp_path / "c.tsv", rows), mapping=CPC)
    assert store.con.execute("SELECT title, len(cpc_codes) FROM patents WHERE publication_number = 'US10000000'"
                             ).fetchone() == ("A title", sum(r[0] == "10000000" for r in rows))


def test_collect_refuses_columns_that_could_differ_within_a_key():
    with pytest.raises(MappingError, match="could differ"):
        parse_mapping({"name": "x", "targets": {"patents": {"collect": "cpc_codes", "columns": {
            "publication_number": "patent_id", "cpc_codes": "cpc_group", "title": "cpc_type"}}}})


def test_a_grouped_file_is_folded_from_its_runs_without_sorting():
    import pyarrow as pa

    from hardtech.store.collect import ORDER, _runs

    t = pa.table({"k": ["a", "a", "b", "c", "c"], ORDER: [0, 1, 0, 0, 2], "__line": [2, 3, 4, 5, 6]})
    assert list(_runs(t, ["k"])) == [0, 2, 3, 5]
    assert _runs(t.set_column(0, "k", pa.array(["a", "b", "a", "c", "c"])), ["k"]) is None  # a key in two places
    assert _runs(t.set_column(1, ORDER, pa.array([1, 0, 0, 0, 2])), ["k"]) is None  # not ascending in a run


def test_a_long_file_reads_only_the_columns_its_mapping_needs(store, tmp_path, monkeypatch):
    import json

    from hardtech.store import importer

    monkeypatch.setattr(importer, "BULK_BYTES", 0)  # every file counts as long
    rows = rows_for(20)
    rows[4][HEADER.index("cpc_group")] = "bad code"
    r = import_file(store, "patents", write_tsv(tmp_path / "c.tsv", rows), mapping=CPC)
    assert r.rejected == 1 and r.targets[0].inserted == 20
    assert r.ignored_columns == ["cpc_section", "cpc_class", "cpc_subclass", "cpc_type"]
    kept = json.loads(store.con.execute("SELECT row_json FROM rejects").fetchone()[0])
    assert kept == {"patent_id": rows[4][0], "cpc_sequence": rows[4][1], "cpc_group": "bad code"}


def test_codes_written_another_way_are_normalised_not_rejected(store, tmp_path):
    rows = rows_for(3)
    rows[0][HEADER.index("cpc_group")] = "g06n 3/08"
    rows[1][HEADER.index("cpc_group")] = "  G06N0003/04 "
    r = import_file(store, "patents", write_tsv(tmp_path / "c.tsv", rows), mapping=CPC)
    assert r.rejected == 0
    codes = patents(store)[f"US{rows[0][0]}"]
    assert codes[:2] == ["G06N3/08", "G06N3/04"] or {"G06N3/08", "G06N3/04"} <= set(codes)
