"""Import reading (`sources/readers.py`) and merging (`store/importer.py`): every file format gives the same
rows, every record the reader cannot take is refused with its line and the real reason, and a file that
cannot be read as a whole names why.

Written from the mutation run of `import` (docs/testing.md): each test states one promise over every
format, line position or case it applies to, not one example.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from hardtech.errors import SourceError
from hardtech.sources.readers import file_sha256, json_objects, read_table

# ------------------------------------------------------------------------------------------ JSON Lines


def test_json_lines_give_every_object_with_its_own_line_number_and_skip_blank_lines():
    lines = ['{"a": 1}', "", "   ", '{"b": "x"}', '{"a": null}']
    assert list(json_objects(lines, "f.jsonl")) == [(1, {"a": 1}), (4, {"b": "x"}), (5, {"a": None})]


@pytest.mark.parametrize("bad, why", [("[1, 2]", "is not a JSON object"), ('"text"', "is not a JSON object"),
                                      ("{oops", "is not valid JSON (Expecting property name enclosed in double "
                                                "quotes)"), ("{} {}", "is not valid JSON (Extra data)")])
@pytest.mark.parametrize("at", [1, 2, 4])
def test_a_json_line_that_is_no_object_is_refused_naming_its_line(bad, why, at):
    lines = ['{"a": 1}'] * 5
    lines[at - 1] = bad
    with pytest.raises(SourceError) as e:
        list(json_objects(lines, "f.jsonl"))
    assert str(e.value) == f"f.jsonl: line {at} {why}"


def test_a_json_line_over_the_limit_is_refused_at_the_limit_not_before():
    assert list(json_objects(['{"a": "xx"}'], "f.jsonl", max_bytes=11)) == [(1, {"a": "xx"})]
    with pytest.raises(SourceError) as e:
        list(json_objects(['{}', '{"a": "xxx"}'], "f.jsonl", max_bytes=11))
    assert str(e.value) == "f.jsonl: line 2 is longer than the 11 bytes limit for a row"
    assert list(json_objects(['{"a": "' + "x" * 10_000 + '"}'], "f.jsonl")) != []  # no limit given: none


def test_a_json_lines_file_reads_every_key_in_first_seen_order_as_text(tmp_path):
    f = tmp_path / "o.jsonl"
    rows = [{"org_id": "a", "founded": 2001}, {}, {"org_id": "b", "tags": ["x", 2], "ok": True},
            {"tags": "solo", "org_id": "c", "founded": None}]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    t = read_table(f).table
    assert t.column_names == ["org_id", "founded", "tags", "ok", "__line"]
    got = t.to_pylist()
    assert [r["org_id"] for r in got] == ["a", "", "b", "c"]  # a missing or null scalar is an empty cell
    assert [r["founded"] for r in got] == ["2001", "", "", ""]
    assert [r["tags"] for r in got] == [None, None, ["x", "2"], ["solo"]]  # lists of text; a scalar beside lists
    assert [r["ok"] for r in got] == ["", "", "True", ""]
    assert [r["__line"] for r in got] == [2, 3, 4, 5]


def test_an_empty_json_lines_file_of_blank_lines_has_no_columns(tmp_path):
    f = tmp_path / "blank.jsonl"
    f.write_text("\n\n  \n", encoding="utf-8")
    assert read_table(f).table.column_names == ["__line"]


# ------------------------------------------------------------------------------------------ whole files


def test_the_file_hash_is_the_sha256_of_every_byte(tmp_path):
    for size in (1, (1 << 20) - 1, 1 << 20, (1 << 20) + 7, 3 << 20):
        f = tmp_path / f"b{size}"
        data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
        f.write_bytes(data)
        assert file_sha256(f) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("first, second", [(b"\r\n", b"\n"), (b"\n", b"\r\n")])
def test_a_csv_mixing_line_endings_names_the_first_line_of_each(tmp_path, first, second):
    f = tmp_path / "mixed.csv"
    f.write_bytes(b"org_id,name_en" + first + b"a,A" + first + b"b,B" + second + b"c,C" + second)
    with pytest.raises(SourceError) as e:
        read_table(f)
    crlf, lf = (1, 3) if first == b"\r\n" else (3, 1)
    assert str(e.value) == (f"mixed.csv: the file mixes line endings: line {crlf} ends in CRLF, line {lf} in LF; "
                            "re-save it with one kind of line ending")


def test_a_carriage_return_inside_an_unquoted_cell_names_its_line(tmp_path):
    f = tmp_path / "cr.csv"
    f.write_bytes(b"org_id,name_en\na,A\nb,B\rX\nc,C\n")
    with pytest.raises(SourceError) as e:
        read_table(f)
    assert "line 3 holds a carriage return (CR) outside quotes" in str(e.value), str(e.value)
