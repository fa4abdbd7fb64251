"""One exception hierarchy, so callers (CLI, API) can map failures to messages and exit codes.

Everything hardtech raises on purpose derives from `HardtechError`; the CLI prints its message
without a traceback and exits with `exit_code`.
"""

from __future__ import annotations


# The exit codes of every command (docs/cli.md is generated from this table).
EXIT_CODES = {
    0: "a result was printed",
    1: "input was rejected: an import or a screening refused rows or values (each is named; the good ones were kept)",
    2: "usage: a wrong option or argument, an unknown organisation, a file that cannot be read, no store",
    3: "nothing to show: the store has no data for this question, or the options narrowed it to nothing "
       "(the line printed says which data to import or which option to change)",
    130: "interrupted (Ctrl-C): nothing was changed by the unfinished step",
}


class HardtechError(Exception):
    exit_code = 2


class UsageError(HardtechError):
    """The user asked for something that does not exist or does not make sense."""


class SourceError(HardtechError):
    """A file cannot be read at all (missing, wrong format, undecodable, missing columns)."""


class MappingError(SourceError):
    """A mapping file is malformed or refers to columns the file does not have."""


class ParseError(HardtechError):
    """A single value cannot be understood (money, date, code); carries the value."""

    def __init__(self, message: str, value: object = None):
        super().__init__(message)
        self.value = value


class FXError(HardtechError):
    """No exchange rate is known for a currency at a date."""


class StoreError(HardtechError):
    """The store cannot be opened, is newer than this program, or a query failed."""


class DamagedStore(StoreError):
    """`hardtech check` found the store damaged (truncated, unreadable blocks, duplicate keys)."""

    exit_code = 1


class RejectedRows(HardtechError):
    """An import finished but refused rows; the good rows are in the store."""

    exit_code = 1


class NotFound(UsageError):
    """An organisation, investor or region named by the user is not in the store."""


class EngineError(UsageError):
    """The engine the store runs on cannot do what was asked (Spark: no writes, no DuckDB SQL); says which can."""


class NothingToShow(UsageError):
    """The question has no answer in this store: the message says which data to import or option to change.

    `key` and `args` name the same message in the CLI's translation file (data/i18n/cli.toml), so a
    presentation layer can say it in the user's language; the English text stays the message."""

    exit_code = 3

    def __init__(self, message: str, key: str | None = None, **args):
        super().__init__(message)
        self.key = key
        self.args_ = args
