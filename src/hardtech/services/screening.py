"""Screening a batch of applicants (`analytics.screening`): what `hardtech screen` and the API's uploads call.

Why a service: both presentations screen the same way, and importing this module is what a worker
process does at its start to have the classifier's code ready before the first upload.
"""

from __future__ import annotations

from pathlib import Path

from hardtech.analytics.screening import ScreenResult, screen


def screen_file(path: str | Path, rubric: str | Path | None = None, name_column: str = "name",
                text_column: str = "description") -> ScreenResult:
    """The ranked shortlist of the applicants in `path` (classified, scored, STAR-checked), with the rows that
    could not be read and the applicants listed twice."""
    return screen(path, rubric=rubric, name_column=name_column, text_column=text_column)
