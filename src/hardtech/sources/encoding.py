"""Decide a text file's encoding once for the whole file, and verify it line by line.

A file that is UTF-8 in some lines and GBK in others is a real export accident (rows pasted from
two systems). Guessing one encoding for it garbles half the names with exit code 0, so the
decision is made per file and every line is checked against it: a file that mixes encodings is
refused with the lines of each named, and a file that is neither UTF-8 nor GBK is refused with
the lines that are not, unless the user names the encoding (`--encoding`). Nothing is guessed.
Line numbers here are physical lines, as a text editor counts them.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

from hardtech.cellsafety import bytes_may_hold_forbidden
from hardtech.errors import SourceError

CHUNK = 16 << 20
GBK = "gb18030"  # the superset of GBK and GB2312: every GBK file is valid GB18030
_SHOWN = 5  # line numbers named in a message


@dataclass(frozen=True)
class TextScan:
    """What one pass over the raw bytes learned, before any parsing."""

    encoding: str  # a Python codec name: utf-8, utf-8-sig, utf-16, gb18030 or the user's
    may_hold_forbidden: bool  # control or bidi characters possible: cells must be checked
    has_tab: bool
    has_bare_cr: bool  # a carriage return not followed by a line feed (inside a cell)
    newlines: int  # line feeds in the file
    sha256: str = ""  # of the file's bytes, computed in the same pass


def _lines(numbers: list[int], verb: str = "") -> str:
    """`line 3 is`, `lines 2, 4 are`, `lines 2, 4, 6, 8, 10 and 7 more are`."""
    shown = ", ".join(str(n) for n in numbers[:_SHOWN])
    text = ("line " if len(numbers) == 1 else "lines ") + shown
    text += f" and {len(numbers) - _SHOWN} more" if len(numbers) > _SHOWN else ""
    if verb:
        text += " " + (verb if len(numbers) == 1 else {"is": "are", "cannot": "cannot"}[verb])
    return text


def _codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise SourceError(f"unknown encoding {name!r}; use a Python codec name such as utf-8, gb18030, "
                          "big5, shift_jis or cp1252") from None


def scan_text(path: Path, encoding: str | None = None) -> TextScan:
    """The file's encoding (given or decided) and the byte-level facts later checks rely on."""
    with open(path, "rb") as f:
        head = f.read(4)
    if encoding is None:
        if head.startswith(b"\xef\xbb\xbf"):
            encoding = "utf-8-sig"
        elif head.startswith((b"\xff\xfe", b"\xfe\xff")):
            encoding = "utf-16"
    codec = _codec(encoding) if encoding else "utf-8"
    if codec in ("utf-16", "utf-16-le", "utf-16-be", "utf-32"):
        # no byte-level shortcuts for wide encodings: decode once, scan the text
        text = _decode_whole(path, codec)
        raw = text.encode("utf-8")
        return TextScan(codec, bytes_may_hold_forbidden(raw), "\t" in text, _bare_cr(raw), text.count("\n"),
                        hashlib.sha256(path.read_bytes()).hexdigest())
    decoder = codecs.getincrementaldecoder(codec)()
    forbidden = tab = bare_cr = False
    newlines = 0
    prev_cr = False
    ok = True
    digest = hashlib.sha256()
    tail = b""
    ascii_compatible = codec in ("utf-8", "utf-8-sig", GBK)
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            if ok and not (ascii_compatible and chunk.isascii() and not decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    ok = False
            forbidden = forbidden or bytes_may_hold_forbidden(tail + chunk)
            tail = chunk[-2:]
            tab = tab or b"\t" in chunk
            if prev_cr and not chunk.startswith(b"\n"):
                bare_cr = True
            if not bare_cr and b"\r" in chunk:
                bare_cr = _bare_cr(chunk)
            prev_cr = chunk.endswith(b"\r")
            newlines += chunk.count(b"\n")
        if ok:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                ok = False
        forbidden = forbidden or bytes_may_hold_forbidden(tail + b"\n\n")  # the file's last two bytes
    if prev_cr:
        bare_cr = True
    if ok:
        return TextScan(codec, forbidden, tab, bare_cr, newlines, digest.hexdigest())
    if encoding is not None:
        bad = _lines_failing(path, codec)
        raise SourceError(f"{path.name}: not {encoding} text: {_lines(bad, 'cannot')} be decoded as {encoding}")
    return TextScan(_decide_by_lines(path), True, tab, bare_cr, newlines, digest.hexdigest())


def _bare_cr(chunk: bytes) -> bool:
    """A carriage return not followed by a line feed (a chunk's last byte is judged with the next chunk)."""
    return chunk.count(b"\r") - chunk.count(b"\r\n") - chunk.endswith(b"\r") > 0


def _decode_whole(path: Path, codec: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(f"{path.name}: not {codec} text: line {line} cannot be decoded") from exc


def _lines_failing(path: Path, codec: str) -> list[int]:
    bad = []
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            try:
                line.decode(codec)
            except UnicodeDecodeError:
                bad.append(n)
    return bad


def _decide_by_lines(path: Path) -> str:
    """Not UTF-8 as a whole: classify each line. All non-UTF-8 lines GBK and no line that only UTF-8
    explains → GB18030; UTF-8 lines beside GBK lines → mixed, refused; anything else → refused."""
    utf8, gbk, neither = [], [], []
    with open(path, "rb") as f:
        for n, line in enumerate(f, start=1):
            if line.isascii():
                continue
            try:
                line.decode("utf-8")
                utf8.append(n)
                continue
            except UnicodeDecodeError:
                pass
            try:
                line.decode(GBK)
                gbk.append(n)
            except UnicodeDecodeError:
                neither.append(n)
    if neither:
        raise SourceError(
            f"{path.name}: cannot tell the text encoding: {_lines(neither, 'is')} neither UTF-8 nor GBK; "
            "re-save the file as UTF-8, or name its encoding with --encoding (e.g. cp1252, big5, shift_jis)")
    if utf8 and gbk:
        raise SourceError(
            f"{path.name}: the file mixes encodings: {_lines(utf8, 'is')} UTF-8 and {_lines(gbk, 'is')} GBK; "
            "re-save it in one encoding (UTF-8), or give --encoding to read every line as one encoding")
    return GBK


def transcode_to_utf8(path: Path, codec: str, out: Path) -> None:
    """Write the file as UTF-8 (streamed), so one CSV reader serves every encoding."""
    dec = codecs.getincrementaldecoder(codec)()
    with open(path, "rb") as src, open(out, "wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(dec.decode(chunk).encode("utf-8"))
        dst.write(dec.decode(b"", final=True).encode("utf-8"))
