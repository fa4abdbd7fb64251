"""FX files: each accepted layout reads every rate it holds, skips what is not a rate, and refuses a bad cell
naming the file, the line and the value — the promises a user supplying `--fx FILE` / HARDTECH_FX relies on.

Written from the mutation run's survivors of `sources/fx.py` (docs/testing.md): the three readers
(hardtech's long CSV, the ECB's eurofxref-hist.csv, the ECB data portal's SDMX CSV), layout detection,
the version comment, the file hash and `load_fx`'s cache. What a file holds is read back through the public
lookup: `rate(..., max_age_days=0)` is the rate published on exactly that day, or none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading

import pandas as pd
import pytest

from hardtech.errors import FXError, SourceError
from hardtech.sources.fx import ENV_VAR, FXTable, load_fx

D = dt.date


def write(tmp_path, name: str, text: str):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def published(t: FXTable, base: str, quote: str, day: dt.date) -> float | None:
    """The rate the table holds for exactly `day`, or None."""
    try:
        return t.rate(base, quote, day, max_age_days=0).value
    except FXError:
        return None


# ------------------------------------------------------------------------------------------ what is read


def test_ecb_wide_reads_every_published_cell_and_skips_every_gap(tmp_path):
    # the four gap markers, a row whose first currency is blank, a row with no date between rows, a short
    # row, a trailing comma, a rate below one
    text = (
        "Date,USD,JPY,CNY,GBP,\n"
        "2020-01-07,,122.0,7.81,0.86,\n"
        "2020-01-06,1.12,,7.80,-,\n"
        ",,,,,\n"
        "2020-01-03,N/A,121.5,NA,0.85,\n"
        "2020-01-02,1.11,121.0\n"
    )
    t = FXTable.from_csv(write(tmp_path, "eurofxref-hist.csv", text))
    expected = {
        D(2020, 1, 7): {"USD": None, "JPY": 122.0, "CNY": 7.81, "GBP": 0.86},
        D(2020, 1, 6): {"USD": 1.12, "JPY": None, "CNY": 7.80, "GBP": None},
        D(2020, 1, 3): {"USD": None, "JPY": 121.5, "CNY": None, "GBP": 0.85},
        D(2020, 1, 2): {"USD": 1.11, "JPY": 121.0, "CNY": None, "GBP": None},
    }
    got = {day: {c: published(t, "EUR", c, day) for c in row} for day, row in expected.items()}
    assert got == expected
    assert t.currencies == ["CNY", "EUR", "GBP", "JPY", "USD"]
    r = t.rate("EUR", "USD", D(2020, 1, 6))
    assert (r.base, r.quote, r.via) == ("EUR", "USD", "direct")  # the ECB's rates are per euro
    assert r.source == "ECB euro foreign exchange reference rate, 2020-01-06"


def test_long_layout_reads_rows_skips_comments_and_blank_rows(tmp_path):
    text = (
        "# Version: v9\n"
        "date,base,quote,rate,source\n"
        "2020-01-02,eur,usd,1.1,mine\n"
        "\n"
        "  # a comment, with a comma\n"
        " , , , ,\n"
        "2020-01-03,EUR,USD,1.2\n"  # no source cell: the file's name is the source
        "2020-01-02,EUR,USD,1.1,mine\n"  # the same rate twice is not a conflict
        "2020-01-03,EUR,GBP,0.85,x\n"
    )
    p = write(tmp_path, "mine.csv", text)
    t = FXTable.from_csv(p)
    assert t.version == "v9"  # the version comment, whatever its case
    assert published(t, "EUR", "USD", D(2020, 1, 2)) == 1.1
    assert published(t, "EUR", "USD", D(2020, 1, 3)) == 1.2
    assert published(t, "EUR", "GBP", D(2020, 1, 3)) == 0.85
    assert t.rate("EUR", "USD", D(2020, 1, 2)).source == "mine"
    assert t.rate("EUR", "USD", D(2020, 1, 3)).source == "mine.csv"


def test_sdmx_with_only_the_four_required_columns(tmp_path):
    text = (
        "CURRENCY,CURRENCY_DENOM,TIME_PERIOD,OBS_VALUE\n"
        "USD,EUR,2020-01-02,1.1\n"
        "USD,EUR,2020-01-03,\n"  # no value: skipped
        " , , , \n"
        "USD,EUR,2020-01-06,NaN\n"  # the portal's own word for no value: skipped
        "GBP,EUR,2020-01-06,0.85\n"
    )
    t = FXTable.from_csv(write(tmp_path, "sdmx.csv", text))
    assert published(t, "EUR", "USD", D(2020, 1, 2)) == 1.1
    assert published(t, "EUR", "USD", D(2020, 1, 3)) is None
    assert published(t, "EUR", "USD", D(2020, 1, 6)) is None
    assert published(t, "EUR", "GBP", D(2020, 1, 6)) == 0.85
    assert t.rate("EUR", "USD", D(2020, 1, 2)).source == "ECB EXR USD/EUR, 2020-01-02"  # no KEY column


def test_sdmx_reads_reference_rates_only_and_names_each_series(tmp_path):
    text = (
        "CURRENCY,CURRENCY_DENOM,EXR_TYPE,TIME_PERIOD,OBS_VALUE,KEY\n"
        "USD,EUR,EN00,2020-01-02,9.9,EXR.D.USD.EUR.EN00.A\n"  # an effective rate, not a reference rate
        "USD,EUR,,2020-01-02,1.1,EXR.D.USD.EUR.SP00.A\n"  # no type given: a reference rate
        "USD,EUR,SP00,2020-01-03,1.2\n"  # a short row: no KEY
    )
    t = FXTable.from_csv(write(tmp_path, "sdmx.csv", text))
    assert published(t, "EUR", "USD", D(2020, 1, 2)) == 1.1
    assert t.rate("EUR", "USD", D(2020, 1, 2)).source == "ECB EXR.D.USD.EUR.SP00.A, 2020-01-02"
    assert t.rate("EUR", "USD", D(2020, 1, 3)).source == "ECB EXR USD/EUR, 2020-01-03"


# ------------------------------------------------------------------------------------------ what is refused

# each layout: a version comment, its header, a good row, a blank row, a row of empty cells, then the bad row
LAYOUTS = {
    "long": ("date,base,quote,rate,source", "2020-01-02,EUR,USD,1.1,s", " , , , ,", 6),
    "ecb": ("Date,USD,CNY", "2020-01-02,1.1,7.8", ",,", 6),
    "sdmx": ("KEY,CURRENCY,CURRENCY_DENOM,EXR_TYPE,TIME_PERIOD,OBS_VALUE",
             "EXR.D.USD.EUR.SP00.A,USD,EUR,SP00,2020-01-02,1.1", " , , , , , ", 6),
}
BAD = [
    ("long", "2020-13-01,EUR,USD,1.1", "date '2020-13-01' is not YYYY-MM-DD"),
    ("long", "2020-01-03,EURO,USD,1.1", "base 'EURO' is not a three-letter currency code"),
    ("long", "2020-01-03,EUR,US,1.1", "quote 'US' is not a three-letter currency code"),
    ("long", "2020-01-03,EUR,EUR,1", "base and quote are both EUR"),
    ("long", "2020-01-03,EUR,USD,abc", "rate 'abc' is not a number"),
    ("long", "2020-01-03,EUR,USD,0", "rate '0' must be a positive number"),
    ("long", "2020-01-03,EUR,USD,-1", "rate '-1' must be a positive number"),
    ("long", "2020-01-03,EUR,USD,inf", "rate 'inf' must be a positive number"),
    ("long", "2020-01-02,EUR,USD,1.2", "EUR→USD on 2020-01-02 is 1.2 here but 1.1 on line 3"),
    ("ecb", "2020-13-01,1.1,7.8", "date '2020-13-01' is not YYYY-MM-DD"),
    ("ecb", "2020-01-03,abc,7.8", "USD rate 'abc' is not a number"),
    ("ecb", "2020-01-03,1.1,0", "CNY rate '0' must be a positive number"),
    ("ecb", "2020-01-03,-1,7.8", "USD rate '-1' must be a positive number"),
    ("ecb", "2020-01-03,inf,7.8", "USD rate 'inf' must be a positive number"),
    ("sdmx", "K,USD,EUR,SP00,2020-01,1.1", "TIME_PERIOD '2020-01' is not a day (use daily series)"),
    ("sdmx", "K,USD,EUR,SP00,2020-01-03,abc", "OBS_VALUE 'abc' is not a number"),
    ("sdmx", "K,USD,EUR,SP00,2020-01-03,0", "OBS_VALUE '0' must be positive"),
    ("sdmx", "K,USD,EUR,SP00,2020-01-03,-2", "OBS_VALUE '-2' must be positive"),
    ("sdmx", "K,USD,EUR,SP00,2020-01-03,inf", "OBS_VALUE 'inf' must be positive"),
    ("sdmx", "K,US,EUR,SP00,2020-01-03,1.1", "currency codes 'EUR'/'US' are not ISO codes"),
    ("sdmx", "K,USD,EU,SP00,2020-01-03,1.1", "currency codes 'EU'/'USD' are not ISO codes"),
]


@pytest.mark.parametrize("layout,row,what", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_bad_cell_is_refused_naming_file_line_and_value(tmp_path, layout, row, what):
    header, good, empty, line = LAYOUTS[layout]
    p = write(tmp_path, f"{layout}.csv", f"# version: t\n{header}\n{good}\n\n{empty}\n{row}\n")
    with pytest.raises(SourceError) as err:
        FXTable.from_csv(p)
    assert str(err.value) == f"{p}, line {line}: {what}"


@pytest.mark.parametrize(
    "header",
    ["Day,USD,CNY", "Date,Dollar,CNY", "time_period,obs_value,currency"],
    ids=["first-column-not-date", "a-column-not-a-code", "sdmx-without-denominator"],
)
def test_an_unknown_layout_is_refused_with_its_header(tmp_path, header):
    p = write(tmp_path, "x.csv", f"{header}\n2020-01-02,1.1,7.8\n")
    with pytest.raises(SourceError) as err:
        FXTable.from_csv(p)
    assert str(err.value) == (
        f"{p}: unknown FX file layout; expected columns date,base,quote,rate,source "
        f"(or the ECB's eurofxref-hist.csv / SDMX CSV), got {header.replace(',', ', ')}"
    )


def test_unreadable_and_non_utf8_files_say_why(tmp_path):
    missing = tmp_path / "absent.csv"
    with pytest.raises(SourceError) as err:
        FXTable.from_csv(missing)
    assert str(err.value) == f"cannot read FX file {missing}: No such file or directory"
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,base,quote,rate,source\n2020-01-02,EUR,USD,1.1,Banque de Fran\xe7e\n".encode("latin-1"))
    with pytest.raises(SourceError) as err:
        FXTable.from_csv(latin)
    assert str(err.value) == f"FX file {latin} is not UTF-8 text"


def test_the_table_records_its_files_sha256(tmp_path):
    body = "\ufeffdate,base,quote,rate\n2020-01-02,EUR,USD,1.1\n"  # a byte-order mark is read past
    p = write(tmp_path, "h.csv", body)
    t = FXTable.from_csv(p)
    digest = hashlib.sha256(p.read_bytes()).hexdigest()
    assert t.sha256 == digest and t.version == f"sha256:{digest[:12]}"
    assert published(t, "EUR", "USD", D(2020, 1, 2)) == 1.1
    rows = pd.DataFrame({"date": [D(2020, 1, 2)], "base": ["EUR"], "quote": ["USD"], "rate": [1.1], "source": ["s"]})
    assert FXTable(rows, "in memory", "v").sha256 == ""  # built from rows, not a file: no file hash


def test_many_comment_lines_are_read_past(tmp_path):
    text = "".join(f"# note {i}\n" for i in range(5)) + "# version: v3\n\ndate,base,quote,rate\n2020-01-02,EUR,USD,1.1\n"
    p = write(tmp_path, "c.csv", text)
    out: list = []
    worker = threading.Thread(target=lambda: out.append(FXTable.from_csv(p)), daemon=True)
    worker.start()
    worker.join(timeout=5)  # milliseconds of work; a mutation run stops a hang at about 10 s
    assert out, "reading a file with several comment lines did not finish"
    assert out[0].version == "v3"


# ------------------------------------------------------------------------------------------ load_fx


def test_a_missing_file_given_by_path_names_only_the_path(tmp_path, monkeypatch):
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env.csv"))
    p = tmp_path / "given.csv"
    with pytest.raises(SourceError) as err:
        load_fx(p)
    assert str(err.value) == f"FX file not found: {p}"  # the variable is set but was not what was read
    monkeypatch.delenv(ENV_VAR)
    with pytest.raises(SourceError) as err:
        load_fx(p)
    assert str(err.value) == f"FX file not found: {p}"
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "from-env.csv"))
    with pytest.raises(SourceError) as err:
        load_fx()
    assert str(err.value) == f"FX file not found: {tmp_path / 'from-env.csv'} (from {ENV_VAR})"


def test_load_fx_rereads_a_changed_file_whether_its_size_or_its_time_changed(tmp_path):
    p = write(tmp_path, "c.csv", "date,base,quote,rate\n2020-06-30,EUR,USD,1.10\n")
    st = p.stat()
    assert load_fx(p).rate("EUR", "USD", D(2020, 7, 1)).value == 1.10
    # same size, later time
    p.write_text("date,base,quote,rate\n2020-06-30,EUR,USD,1.20\n", encoding="utf-8")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert load_fx(p).rate("EUR", "USD", D(2020, 7, 1)).value == 1.20
    # same time, other size
    p.write_text("date,base,quote,rate\n2020-06-30,EUR,USD,1.375\n", encoding="utf-8")
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert load_fx(p).rate("EUR", "USD", D(2020, 7, 1)).value == 1.375
