"""Text normalisation's promises, stated for `sources.text.clean` itself (every reader of free text uses it:
classification through `analytics/classify/text.py`, entity resolution through `sources/names.py`).

`clean` turns whatever a source wrote into plain, bounded, simplified-Chinese text: nothing from nothing, a
value as its text, tags gone (each leaving a space, so words either side stay apart), entities unescaped
(after the tags are stripped, so an escaped `&lt;b&gt;` is text a user wrote, kept), traditional characters
folded to simplified, any run of whitespace one space, and at most `MAX_CHARS` characters read.
The classifier's verdicts on traditional/simplified twins are checked in `test_guard_classify_twins.py`.
"""

from __future__ import annotations

import numpy as np
import pytest

from hardtech.analytics.classify import text as classify_text
from hardtech.sources import text as T
from hardtech.sources.text import MAX_CHARS, clean, has_cjk

# (traditional, simplified): each traditional form differs from its twin in every character marked
FOLDS = [
    ("半導體晶圓製造與積體電路設計", "半导体晶圆制造与积体电路设计"),
    ("鋰離子電池正極材料", "锂离子电池正极材料"),
    ("雲計算數據庫", "云计算数据库"),
]


@pytest.mark.parametrize("missing", [None, float("nan"), np.float64("nan"), "", "   ", "\t\n\r\u3000\u00a0"])
def test_nothing_is_cleaned_to_the_empty_text(missing):
    assert clean(missing) == ""


@pytest.mark.parametrize("value, text", [(12, "12"), (1.5, "1.5"), (0.0, "0.0"), (True, "True")])
def test_a_value_that_is_not_text_is_cleaned_as_its_text(value, text):
    assert clean(value) == text


def test_a_number_is_not_mistaken_for_a_missing_value():
    assert clean(float("inf")) == "inf" and clean(-0.5) == "-0.5"


@pytest.mark.parametrize("raw, plain", [
    ("<p>Silicon carbide</p>", "Silicon carbide"),
    ("lithium<br>battery", "lithium battery"),
    ("a<b>b</b>c", "a b c"),
    ("<div class='x'>激光</div><div>雷达</div>", "激光 雷达"),
    ("no tags > here", "no tags > here"),
])
def test_tags_are_stripped_and_leave_a_space(raw, plain):
    assert clean(raw) == plain


@pytest.mark.parametrize("raw, plain", [
    ("R&amp;D", "R&D"),
    ("&lt;b&gt;bold&lt;/b&gt;", "<b>bold</b>"),   # escaped markup is text the writer meant: kept, not stripped
    ("caf&eacute;", "café"),
    ("a&nbsp;b", "a b"),                           # an unescaped no-break space is whitespace like any other
    ("Q&A without entities", "Q&A without entities"),
])
def test_entities_are_unescaped_after_the_tags_are_stripped(raw, plain):
    assert clean(raw) == plain


@pytest.mark.parametrize("trad, simp", FOLDS)
def test_traditional_characters_are_folded_to_simplified(trad, simp):
    assert trad != simp
    assert clean(trad) == simp
    assert clean(simp) == simp
    assert clean(f"Acme {trad} Ltd") == f"Acme {simp} Ltd"


def test_traditional_characters_written_as_entities_or_inside_tags_are_folded_too():
    assert clean("&#x92F0;離子") == "锂离子"
    assert clean("<b>鋰</b>電池") == "锂 电池"


def test_a_mixed_text_folds_every_traditional_character_and_keeps_the_rest():
    assert clean("鋰電池 and 光伏组件, café ½") == "锂电池 and 光伏组件, café ½"


@pytest.mark.parametrize("raw", ["a \t b\n\nc", "  a b c  ", "a\u3000b\u00a0c", "a\r\nb \u2003c"])
def test_whitespace_runs_become_one_space_and_ends_are_trimmed(raw):
    assert clean(raw) == "a b c"


def test_at_most_max_chars_characters_are_read():
    assert clean("x" * MAX_CHARS) == "x" * MAX_CHARS
    assert clean("y" * (MAX_CHARS + 1)) == "y" * MAX_CHARS
    long = "a " * MAX_CHARS + "TAIL"
    out = clean(long)
    assert "TAIL" not in out and len(out) <= MAX_CHARS
    # the bound is on the text read, before tags are stripped: a tag past it is not read at all
    assert clean("z" * MAX_CHARS + "<b>more</b>") == "z" * MAX_CHARS


@pytest.mark.parametrize("text", ["中", "abc 中文 def", "ASCII then 鋰", "\u3400", "\u9fff", "\uf900", "\ufaff"])
def test_has_cjk_finds_a_chinese_character_anywhere(text):
    assert has_cjk(text) is True


@pytest.mark.parametrize("text", ["", "abc", "café", "Привет", "½ € ★", "\u3000", "ｆｕｌｌｗｉｄｔｈ"])
def test_has_cjk_is_false_without_a_chinese_character(text):
    assert has_cjk(text) is False


def test_classification_cleans_with_the_same_rule():
    assert classify_text.clean is T.clean and classify_text.has_cjk is T.has_cjk
    assert classify_text.MAX_CHARS == MAX_CHARS


# The stemmer (`classify.text.stem`, lru_cached, so mutmut does not mutate it): forms of one word meet, and what is
# not an English inflection is left alone. Lexicon terms go through the same function, so only agreement matters.
@pytest.mark.parametrize("words", [
    ("run", "running"), ("map", "mapped"), ("fill", "filled", "fills"), ("battery", "batteries"),
    ("device", "devices"), ("chip", "chips"), ("laser", "lasers"), ("class", "classes"), ("glass", "glasses"),
    ("optimize", "optimization"), ("process", "processes"),
])
def test_inflected_forms_of_a_word_meet_in_one_stem(words):
    assert len({classify_text.stem(w) for w in words}) == 1, {w: classify_text.stem(w) for w in words}


@pytest.mark.parametrize("word", ["ai", "ate", "gas", "bus", "lens", "series", "physics", "robotics", "ceramics",
                                  "materials", "5g", "covid19", "li-ion", "this"])
def test_short_kept_non_alphabetic_and_ics_words_are_left_alone(word):
    assert classify_text.stem(word) == word
