"""What a STAR verdict is made of: one result per indicator or exception, and the verdict with its reasons."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

@dataclass
class IndicatorResult:
    name: str
    value: float | None
    threshold: str
    passed: bool | None  # None = cannot tell (missing data)
    inputs: dict = field(default_factory=dict)
    note: str = ""
    number: int = 0  # position in the version's guideline (1-based); 0 when not numbered
    label: str = ""
    proxy: str = ""  # what stood in for the missing figure (empty: judged on the figure itself)


@dataclass
class StarResult:
    org_id: str
    version: str
    year: int | None  # None only when the organisation has no financials at all
    verdict: str
    decided_by: str
    indicators: list[IndicatorResult] = field(default_factory=list)
    exceptions: list[IndicatorResult] = field(default_factory=list)
    carve_outs_applied: list[str] = field(default_factory=list)
    negative_list: list[str] = field(default_factory=list)
    fx: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    proxies: list[str] = field(default_factory=list)  # "invention patents: patent filings …" per item judged on one
    # the same reasons as `decided_by`, as keys with their figures, for other languages
    # (hardtech.presentation.star_text renders them from data/i18n/labels.toml)
    reasons: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)
