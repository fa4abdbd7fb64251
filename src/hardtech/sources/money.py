"""Money as people write it: "1.2亿元", "数千万美元", "$3.5M", "(1,234)", "未披露".

Funding rounds, R&D budgets and valuations arrive as free text in a dozen conventions. This
module turns one such text into a `Money` without ever inventing a figure: a vague magnitude
("数千万", "tens of millions") or a range becomes `low`/`high` with `amount` left None, and an
undisclosed value stays undisclosed. Anything it cannot read raises `ParseError` naming the
text, so an importer can reject the row instead of storing a guess.

Conventions (the ones a reader might not guess):
- "数X"/"几X" (数千万, 数亿, 数十万) means [X, 10·X]: 数千万 = 10–100 million. "X级" (千万级) is the
  same band. "上X" (上千万, 上亿) is "at least X" with no upper bound.
- 超/超过/过/逾/以上/多/余/over/more than/at least/"+" give only `low`; 不超过/低于/以下/under/
  up to give only `high`. 近/将近/nearly/almost X is the band [0.8·X, X] (`NEAR_FRACTION`).
- 约/大约/左右/about/approximately X is the figure X marked `approximate`: the importer keeps the mark
  (`funding_rounds.amount_approx`) or refuses the value where a column has no place for it.
  达/共计/合计/累计 ("reached", "in total") are not qualifiers: the figure is exact.
- Numbers are read in one notation, `decimal="point"` (`1,234.5`, the default) or `"comma"`
  (`1.234,5`); a number only the other notation reads is refused (see `numbers`). `NaN`, `inf`
  and figures beyond a double's range are refused with that reason, never read as "missing".
- "¥" is CNY, unless `default_currency` is "JPY". Bare "$" is USD unless `default_currency` is
  another dollar (HKD, TWD, SGD, AUD, CAD, NZD). "元" alone is CNY; with another currency word
  ("HK$2亿元") the other one wins.
- `unit` scales numbers written without a magnitude word (a column "in EUR million");
  a magnitude in the text ("万", "M", "billion") replaces it.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from numbers import Number

import numpy as np
import pandas as pd

from hardtech.errors import ParseError
from hardtech.sources.numbers import rewrite_numbers, special_reason

NEAR_FRACTION = 0.8

# Texts that mean "no value", shared with the date parser (lower-cased, after NFKC).
MISSING_TEXT = frozenset(
    {
        "", "-", "--", "---", "—", "——", "–", "/", "?", "n/a", "na", "n.a.", "none",
        "null", "nil", "unknown", "undisclosed", "not disclosed", "unspecified", "tbd",
        "未透露", "未披露", "不详", "未公开", "未知", "保密", "暂无", "无", "不明", "待定",
        "未公布",
    }
)

# Plain decimal numbers: the fast path, shared by the scalar and the vectorised parser.
FAST_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_FAST_RE = re.compile(FAST_NUMBER)

_ISO_CODES = (
    "USD", "CNY", "RMB", "CNH", "EUR", "HKD", "GBP", "JPY", "KRW", "TWD", "SGD", "CHF", "AUD",
    "CAD", "NZD", "INR", "SEK", "NOK", "DKK", "ILS", "BRL", "RUB",
)
_DOLLARS = frozenset({"USD", "HKD", "TWD", "SGD", "AUD", "CAD", "NZD"})

# token (lower case) -> ISO code; "$", "¥" and "元" are resolved by `_resolve` below.
_CURRENCY_WORDS = {
    "us$": "USD", "hk$": "HKD", "nt$": "TWD", "s$": "SGD", "a$": "AUD", "c$": "CAD",
    "nz$": "NZD", "r$": "BRL", "€": "EUR", "£": "GBP", "₩": "KRW", "₹": "INR", "₪": "ILS",
    "人民币": "CNY", "新台币": "TWD", "台币": "TWD", "美元": "USD", "美金": "USD", "港元": "HKD",
    "港币": "HKD", "欧元": "EUR", "英镑": "GBP", "日元": "JPY", "日圆": "JPY", "韩元": "KRW",
    "瑞士法郎": "CHF", "新加坡元": "SGD", "澳元": "AUD", "加元": "CAD",
    "renminbi": "CNY", "yuan": "CNY", "euros": "EUR", "euro": "EUR", "pounds": "GBP",
    "yen": "JPY", "won": "KRW", "rmb": "CNY", "cnh": "CNY",
    **{code.lower(): code for code in _ISO_CODES if code not in ("RMB", "CNH")},
}
_WEAK = {"$": "$", "dollars": "$", "dollar": "$", "¥": "¥", "元": "元", "块": "元"}

_symbols = sorted(
    [w for w in list(_CURRENCY_WORDS) + list(_WEAK) if not w.isascii() or "$" in w],
    key=len, reverse=True,
)
_latin = sorted([w for w in list(_CURRENCY_WORDS) + list(_WEAK) if w.isalpha() and w.isascii()],
                key=len, reverse=True)
_CURRENCY_RE = re.compile(
    "|".join(re.escape(w) for w in _symbols)
    + "|(?<![a-z])(?:" + "|".join(_latin) + ")(?![a-z])",
    re.IGNORECASE,
)

_NUM = r"(?:[0-9]+(?:,[0-9]{3})*(?:\.[0-9]+)?|\.[0-9]+)(?:e[-+]?[0-9]+)?"
_CN_MAG = r"(?:[十百千]?万亿|[十百千]?亿|[十百千]?万|千|百)"
_EN_MAG = r"(?:thousands?|k|millions?|mio\.?|mn|mm|m|billions?|bn|b|mrd\.?|trillions?|tn|t)"
_MAG = f"(?:{_CN_MAG}|{_EN_MAG})"
_VAGUE_MAG = r"(?:[十百千]?万亿|[十百千]?亿|[十百千]?万|千|百|十)"

_SINGLE_RE = re.compile(rf"(?P<neg>-)?(?P<num>{_NUM})?(?P<more>[余多])?(?P<mag>{_MAG})?")
_RANGE_RE = re.compile(
    rf"(?:between)?(?P<a>{_NUM})(?P<amag>{_MAG})?(?:-|–|—|~|〜|至|到|to|and)"
    rf"(?P<b>{_NUM})(?P<bmag>{_MAG})?"
)
_SEVERAL_RE = re.compile(rf"(?:数|几)(?P<mag>{_VAGUE_MAG})")
_CLASS_RE = re.compile(rf"(?P<mag>{_MAG})(?:级别|级)")
_UP_TO_MAG_RE = re.compile(rf"上(?P<mag>{_VAGUE_MAG})")
_EN_VAGUE_RE = re.compile(
    r"(?P<kind>several|afew|tensof|hundredsof)(?P<mag>thousands?|millions?|billions?)(?:of)?"
)

_UNRECOGNISED = "unrecognised format (expected e.g. '1.2亿元', '$3.5M', '1-2亿元', '未披露')"

_CN_FACTOR = {"十": 10, "百": 100, "千": 1_000, "万": 10_000, "亿": 100_000_000}
_EN_FACTOR = {
    "thousand": 1e3, "thousands": 1e3, "k": 1e3,
    "million": 1e6, "millions": 1e6, "mio": 1e6, "mn": 1e6, "mm": 1e6, "m": 1e6,
    "mio.": 1e6, "billion": 1e9, "billions": 1e9, "bn": 1e9, "b": 1e9, "mrd": 1e9, "mrd.": 1e9,
    "trillion": 1e12, "trillions": 1e12, "tn": 1e12, "t": 1e12,
}

# Words around a figure. Longest first so "不超过" is not read as "超过", nor "超过" as "超".
_PREFIXES = {
    "approx": ("约合", "约为", "大约", "约", "approximately", "approx.", "approx", "about", "around", "roughly",
               "~", "c.", "ca."),
    "total": ("达到", "达", "共计", "共", "合计", "总计", "累计"),
    "upper": ("不超过", "不高于", "不到", "不足", "低于", "少于", "最多", "至多", "upto", "under",
              "lessthan", "below", "<=", "≤", "<"),
    "lower": ("超过", "超出", "高于", "多于", "不少于", "不低于", "至少", "逾", "超", "过",
              "over", "morethan", "above", "atleast", "inexcessof", ">=", "≥", ">"),
    "near": ("将近", "接近", "逼近", "近", "nearly", "almost", "closeto"),
}
_SUFFIXES = {
    "approx": ("左右", "上下"),
    "lower": ("及以上", "或以上", "以上", "+", "起", "多", "余"),
    "upper": ("及以下", "或以下", "以下", "以内", "之内"),
}
_PREFIX_LIST = sorted(((w, k) for k, ws in _PREFIXES.items() for w in ws), key=lambda x: -len(x[0]))
_SUFFIX_LIST = sorted(((w, k) for k, ws in _SUFFIXES.items() for w in ws), key=lambda x: -len(x[0]))


@dataclass(frozen=True)
class Money:
    """One money value as read from text; `amount` is set only when the text gives one figure."""

    amount: float | None
    low: float | None
    high: float | None
    currency: str | None
    disclosed: bool
    text: str
    approximate: bool = False  # the text says "about" (约, 左右, approx.): the figure is not exact

    @property
    def lower_bound(self) -> float | None:
        """The figure, or the low end of a range: what "at least" queries sort on."""
        return self.amount if self.amount is not None else self.low

    @property
    def upper_bound(self) -> float | None:
        return self.amount if self.amount is not None else self.high


def _fail(text: object, why: str) -> ParseError:
    return ParseError(f"cannot read {text!r} as money: {why}", text)


def _normalise(text: str) -> str:
    """Full-width digits and punctuation become ASCII; odd minus signs become "-"."""
    s = unicodedata.normalize("NFKC", text)
    return s.replace("−", "-").replace("‐", "-").replace("﹣", "-").strip()


def _resolve(found: list[str], default: str | None, text: object) -> str | None:
    """Pick one ISO code from the currency words found; conflicting strong words are an error."""
    strong = {_CURRENCY_WORDS[w.lower()] for w in found if w.lower() in _CURRENCY_WORDS}
    weak = {_WEAK[w.lower()] for w in found if w.lower() in _WEAK}
    if len(strong) > 1:
        raise _fail(text, f"it names several currencies ({', '.join(sorted(strong))})")
    if strong:
        code = strong.pop()
        if "$" in weak and code not in _DOLLARS:
            raise _fail(text, f"'$' next to {code}")
        if "¥" in weak and code not in ("CNY", "JPY"):
            raise _fail(text, f"'¥' next to {code}")
        return code
    if "$" in weak and "¥" in weak:
        raise _fail(text, "it has both '$' and '¥'")
    if "$" in weak:
        return default if default in _DOLLARS else "USD"
    if "¥" in weak:
        return "JPY" if default == "JPY" else "CNY"
    if "元" in weak:
        return "CNY"
    return default


def _factor(mag: str | None) -> Decimal | None:
    if not mag:
        return None
    if mag in _EN_FACTOR:
        return Decimal(repr(_EN_FACTOR[mag]))
    f = Decimal(1)
    for ch in mag:
        f *= _CN_FACTOR[ch]
    return f


def _number(num: str) -> Decimal:
    return Decimal(num.replace(",", ""))


def _strip_qualifier(t: str) -> tuple[str, str | None, bool]:
    """Remove one bound word at each end; say which kind of bound the text gives and whether it says
    "about"."""
    kinds = []
    for w, kind in _PREFIX_LIST:
        if t.startswith(w) and len(t) > len(w):
            t = t[len(w):]
            kinds.append(kind)
            break
    for w, kind in _SUFFIX_LIST:
        if t.endswith(w) and len(t) > len(w):
            t = t[: -len(w)]
            kinds.append(kind)
            break
    bounds = {k for k in kinds if k not in ("approx", "total")}
    if len(bounds) > 1:
        raise ValueError("contradictory bound words")
    return t, (bounds.pop() if bounds else None), "approx" in kinds


def _as_float(d: Decimal) -> float:
    v = float(d)
    if not math.isfinite(v):
        raise ValueError("the number is too large: beyond the largest a figure can hold (about 1.8e308)")
    return v


def _read(t: str, unit: float) -> tuple[float | None, float | None, float | None, bool]:
    """(amount, low, high, approximate) from a lower-case, space-free, currency-free text; ValueError if not."""
    neg = False
    if t.startswith("(") and t.endswith(")"):
        neg, t = True, t[1:-1]
    t, bound, approx = _strip_qualifier(t)
    return (*_read_bounded(t, unit, bound, neg), approx)


def _read_bounded(t: str, unit: float, bound: str | None, neg: bool) -> tuple[float | None, float | None, float | None]:
    for regex, width in ((_SEVERAL_RE, 10), (_CLASS_RE, 10)):
        m = regex.fullmatch(t)
        if m and not bound and not neg:
            f = _factor(m["mag"])
            return None, _as_float(f), _as_float(f * width)
    m = _UP_TO_MAG_RE.fullmatch(t)
    if m and bound in (None, "lower") and not neg:
        return None, _as_float(_factor(m["mag"])), None
    m = _EN_VAGUE_RE.fullmatch(t)
    if m and not bound and not neg:
        f = _factor(m["mag"])
        scale = {"several": 1, "afew": 1, "tensof": 10, "hundredsof": 100}[m["kind"]]
        return None, _as_float(f * scale), _as_float(f * scale * 10)

    m = _RANGE_RE.fullmatch(t)
    if m:
        if bound or neg:
            raise ValueError("a range cannot also carry a bound word or a sign")
        shared = _factor(m["bmag"]) or _factor(m["amag"]) or Decimal(repr(unit))
        a = _number(m["a"]) * (_factor(m["amag"]) or shared)
        b = _number(m["b"]) * shared
        if a > b:
            raise ValueError("the range runs backwards")
        return None, _as_float(a), _as_float(b)

    m = _SINGLE_RE.fullmatch(t)
    if not m or not (m["num"] or (m["mag"] and bound)):
        raise ValueError(_UNRECOGNISED)
    if m["mag"] is None and m["more"]:
        raise ValueError(_UNRECOGNISED)
    value = (_number(m["num"]) if m["num"] else Decimal(1)) * (
        _factor(m["mag"]) or Decimal(repr(unit))
    )
    if m["neg"] or neg:
        if bound or m["more"] or (m["neg"] and neg):
            raise ValueError("a negative figure cannot also carry a bound word")
        value = -value
    v = _as_float(value)
    if m["more"] and bound in (None, "lower"):
        return None, v, None
    if m["more"]:
        raise ValueError("contradictory bound words")
    if bound == "lower":
        return None, v, None
    if bound == "upper":
        return None, None, v
    if bound == "near":
        return None, _as_float(value * Decimal(repr(NEAR_FRACTION))), v
    return v, None, None


def _missing(text: str, currency: str | None) -> Money:
    return Money(None, None, None, currency, False, text)


def parse_money(text: object, default_currency: str | None = None, unit: float = 1.0,
                decimal: str = "point") -> Money:
    """Read one money value; see the module docstring for the conventions."""
    if text is None or text is pd.NA or text is pd.NaT:
        return _missing("", default_currency)
    if isinstance(text, (bool, np.bool_)):
        raise _fail(text, "a yes/no value is not an amount")
    if isinstance(text, Number) and not isinstance(text, str):
        v = float(text)  # type: ignore[arg-type]
        if math.isnan(v):
            return _missing("", default_currency)
        if not math.isfinite(v):
            raise _fail(text, "the number is not finite")
        return Money(v * unit, None, None, default_currency, True, str(text))
    raw = str(text)
    stripped = raw.strip()
    if _FAST_RE.fullmatch(stripped) and (decimal == "point" or "." not in stripped):
        v = float(stripped)
        if math.isfinite(v):
            return Money(v * unit, None, None, default_currency, True, raw)
    why = special_reason(raw)
    if why:
        raise _fail(text, why)
    s = _normalise(raw)
    if s.lower() in MISSING_TEXT:
        return _missing(raw, default_currency)
    try:
        s = rewrite_numbers(s, decimal)
    except ParseError as exc:
        raise _fail(text, str(exc)) from None
    found = _CURRENCY_RE.findall(s)
    rest = _CURRENCY_RE.sub(" ", s)
    t = re.sub(r"\s+", "", rest).lower()
    currency = _resolve(found, default_currency, text)
    # a missing word of several words keeps its spaces ("USD not disclosed"): compare it spaced as well
    if t in MISSING_TEXT or " ".join(rest.split()).lower() in MISSING_TEXT:
        if found and t == "":
            raise _fail(text, "a currency without a number")
        return _missing(raw, currency)
    try:
        amount, low, high, approx = _read(t, unit)
    except (ValueError, InvalidOperation, KeyError) as exc:
        raise _fail(text, str(exc) or _UNRECOGNISED) from None
    return Money(amount, low, high, currency, True, raw, approx)


def parse_unit(spec: str) -> tuple[float, str | None]:
    """A column's unit ("EUR million", "万元", "USD bn") as (multiplier, currency or None)."""
    if spec is None:
        return 1.0, None
    s = _normalise(str(spec))
    if s.lower() in ("", "1", "unit", "units", "one", "ones"):
        return 1.0, None
    found = _CURRENCY_RE.findall(s)
    t = re.sub(r"\s+", "", _CURRENCY_RE.sub(" ", s)).lower()
    try:
        currency = _resolve(found, None, spec)
    except ParseError:
        raise ParseError(f"cannot read {spec!r} as a unit: it names several currencies", spec)
    m = re.fullmatch(rf"(?P<num>{_NUM})?(?P<mag>{_MAG})?", t)
    if not m or (not found and not m["mag"] and not m["num"]):
        raise ParseError(
            f"cannot read {spec!r} as a unit: expected e.g. 'EUR million', '万元', 'USD bn'", spec
        )
    factor = (_number(m["num"]) if m["num"] else Decimal(1)) * (_factor(m["mag"]) or Decimal(1))
    if factor <= 0:
        raise ParseError(f"cannot read {spec!r} as a unit: it must be positive", spec)
    return float(factor), currency


_COLUMNS = ["amount", "low", "high", "currency", "disclosed", "error"]


def parse_money_series(
    values: pd.Series, default_currency: str | None = None, unit: float = 1.0
) -> pd.DataFrame:
    """Parse a column in bulk: plain numbers go through pandas, only the rest through the parser.

    Returns columns amount, low, high (float, NaN when absent), currency (str or None),
    disclosed (bool) and error (the ParseError message, or None), on the input's index.
    Each distinct non-numeric text is parsed once.
    """
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.CategoricalDtype):
        s = s.astype(object)
    n = len(s)
    amount, low, high = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    currency = np.full(n, default_currency, dtype=object)
    disclosed = np.zeros(n, dtype=bool)
    error = np.full(n, None, dtype=object)

    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        arr = s.to_numpy(dtype=float, na_value=np.nan)
        finite = np.isfinite(arr)
        amount[finite] = arr[finite] * unit
        disclosed[finite] = True
        slow = np.flatnonzero(~finite & ~np.isnan(arr))
    else:
        text = s if pd.api.types.is_string_dtype(s.dtype) and not s.dtype == object else None
        if text is None:
            is_str = s.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)
            text = s.where(is_str).astype("str")
        else:
            is_str = s.notna().to_numpy()
        stripped = text.str.strip()
        fast = stripped.str.fullmatch(FAST_NUMBER).fillna(False).to_numpy(dtype=bool) & is_str
        if fast.any():
            nums = pd.to_numeric(stripped[fast]).to_numpy(dtype=float)
            ok = np.isfinite(nums)
            idx = np.flatnonzero(fast)
            amount[idx[ok]] = nums[ok] * unit
            disclosed[idx[ok]] = True
            fast[idx[~ok]] = False
        slow = np.flatnonzero(~fast & s.notna().to_numpy())

    if len(slow):
        cache: dict[object, Money | str] = {}
        raw = s.to_numpy(dtype=object)
        for i in slow:
            v = raw[i]
            try:
                key = (type(v), v)
                got = cache.get(key)
            except TypeError:  # unhashable cell: parse it, do not cache
                key, got = None, None
            if got is None:
                try:
                    got = parse_money(v, default_currency, unit)
                except ParseError as exc:
                    got = str(exc)
                if key is not None:
                    cache[key] = got
            if isinstance(got, str):
                error[i] = got
                continue
            amount[i] = np.nan if got.amount is None else got.amount
            low[i] = np.nan if got.low is None else got.low
            high[i] = np.nan if got.high is None else got.high
            currency[i] = got.currency
            disclosed[i] = got.disclosed

    return pd.DataFrame(
        {
            "amount": amount,
            "low": low,
            "high": high,
            "currency": pd.Series(currency, dtype=object, index=s.index),
            "disclosed": disclosed,
            "error": pd.Series(error, dtype=object, index=s.index),
        },
        index=s.index,
    )[_COLUMNS]
