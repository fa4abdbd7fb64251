"""Uploaded files: size and row limits with clear 413s, saved under a server-made temporary folder.

No path from the request reaches the file system: the client's file name only chooses an
extension from a fixed list, and the file is written as `upload.<ext>` inside a fresh
`tempfile.mkdtemp()` folder that is removed afterwards. The refusal by `Content-Length`, before the
body is read, is `app.Guard`'s.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from fastapi import UploadFile

from hardtech.presentation.api.errors import ApiProblem

EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".jsonl", ".parquet")
CHUNK = 64 * 1024


def _extension(filename: str | None) -> str:
    suffix = Path(filename or "").suffix.lower()
    if suffix not in EXTENSIONS:
        raise ApiProblem(422, f"file type {suffix or '(none)'!r} is not accepted; send one of: {', '.join(EXTENSIONS)}")
    return ".tsv" if suffix == ".txt" else suffix


@contextmanager
def saved_upload(file: UploadFile, limit: int) -> Iterator[Path]:
    """The upload as a temporary file, refused with 413 as soon as it passes `limit` bytes."""
    ext = _extension(file.filename)
    folder = Path(tempfile.mkdtemp(prefix="hardtech-upload-"))
    try:
        path = folder / f"upload{ext}"
        size = 0
        with path.open("wb") as out:
            while True:
                chunk = file.file.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise ApiProblem(413, f"upload is larger than {limit:,} bytes, the most this server accepts per file")
                out.write(chunk)
        if size == 0:
            raise ApiProblem(422, "the uploaded file is empty")
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def count_rows(path: Path, limit: int) -> int:
    """Data rows in the file; 413 when there are more than `limit`."""
    from hardtech.services.data import count_file_rows

    n = count_file_rows(path)
    if n > limit:
        raise ApiProblem(413, f"the file has {n:,} rows; this server accepts at most {limit:,} rows per upload")
    if n == 0:
        raise ApiProblem(422, "the file has a header but no data rows")
    return n
