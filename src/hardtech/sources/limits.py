"""Size limits on what an import accepts, checked before the expensive work starts.

A hostile or broken file (a 100,000-column header, a 1 GB cell, a 100,000-character id) must be
refused in milliseconds with the limit named, not parsed for minutes or passed to the store.
File-level limits (columns, row length) refuse the file before it is parsed; cell-level limits
reject the row, naming line and column, and keep the other rows.
"""

from __future__ import annotations

MAX_COLUMNS = 2_000  # columns in a file's header (Excel's own limit is 16,384; real exports use < 200)
MAX_ROW_BYTES = 4 << 20  # one record, as the CSV reader sees it (4 MiB)

# Cell sizes, per column: checked on the text before any value is parsed.
ID_MAX_CHARS = 200  # key and identifier columns (org_id, publication_number, ticker, …)
TEXT_MAX_CHARS = 2_000  # names, cities, codes, numbers, dates and every other short cell (list elements too)
LONG_TEXT_MAX_CHARS = 100_000  # free text: descriptions, abstracts, notes
SHOWN_VALUE_CHARS = 2_000  # a rejected value is kept up to this length (the whole row is in `row_json`)

# Columns that hold prose; line breaks and tabs are allowed in them and nowhere else.
LONG_TEXT_COLUMNS = frozenset({"description_en", "description_zh", "description", "abstract", "note", "title"})


def human_bytes(n: int) -> str:
    """1048576 → '1 MiB': limits are named in messages the way people read them."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            v = n / size
            return f"{v:.0f} {unit}" if v == int(v) else f"{v:.1f} {unit}"
    return f"{n} bytes"


def text_limit(column: str, key: tuple[str, ...]) -> tuple[int, str]:
    """The most characters a cell of this column may hold, and what the column is called in the message."""
    if column in key or column.endswith("_id") or column in ("ticker", "publication_number"):
        return ID_MAX_CHARS, "an identifier"
    if column in LONG_TEXT_COLUMNS:
        return LONG_TEXT_MAX_CHARS, "free text"
    return TEXT_MAX_CHARS, "a short text cell"
