"""Numbers as each language writes them: the fast formatter against babel's CLDR formatting."""
from __future__ import annotations

import math

from babel.numbers import format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from atlas import numbers

LOCALES = {"en": "en_GB", "da": "da_DK"}


def babel(x: float, digits: int, lang: str, grouping: bool) -> str:
    pattern = ("#,##0" if grouping else "0") + ("." + "0" * digits if digits else "")
    return format_decimal(x, format=pattern, locale=LOCALES[lang], decimal_quantization=True)


@settings(max_examples=600, deadline=None)
@given(x=st.one_of(st.floats(min_value=-1e12, max_value=1e12, allow_nan=False),
                   st.integers(-10**9, 10**9).map(lambda i: i / 1000),          # exact ties such as 2.675 and 0.125
                   st.integers(-10**7, 10**7)),
       digits=st.integers(0, 3), lang=st.sampled_from(["en", "da"]), grouping=st.booleans())
def test_decimal_agrees_with_babel(x, digits, lang, grouping):
    assert numbers.decimal(x, digits, lang, grouping) == babel(float(x), digits, lang, grouping)


def test_worked_examples():
    assert numbers.decimal(22913.46, 1, "en") == "22,913.5"
    assert numbers.decimal(22913.46, 1, "da") == "22.913,5"
    assert numbers.integer(22913, "da") == "22.913"
    assert numbers.decimal(2.675, 2, "en") == "2.68"          # the decimal form, as written, rounds half to even up
    assert numbers.decimal(0.125, 2, "da") == "0,12"
    assert numbers.percent(12.5, 1, "da") == "12,5 %"
    assert numbers.decimal(math.nan, 1, "da") == numbers.MISSING
    assert numbers.decimal(None) == numbers.MISSING
