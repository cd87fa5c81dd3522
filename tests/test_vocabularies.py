"""One registry per vocabulary (etl/config/vocabularies.toml): the contract, the synthetic generator,
the atlas's filters and its labels all hold the same codes, and every code has its names."""
from __future__ import annotations

import re

import pytest

from atlas.filters import DIMENSIONS
from atlas.i18n import LABELS, label
from etl import vocabularies
from etl.contract import contract
from etl.settings import load_settings
from etl.synthetic import config as synthetic

VOCABULARIES = vocabularies.vocabularies()


def _allowed(table: str, column: str) -> set:
    """The values the contract's set rule admits for a column, read back from its SQL."""
    col = next(c for c in contract(load_settings())[table].columns if c.name == column)
    listed = re.search(r"IN \((.*)\)", col.rules[0].predicate).group(1)
    return {int(v) if v.strip().isdigit() else v.strip().strip("'") for v in listed.split(",")}


@pytest.mark.parametrize("table, column, name", [
    ("population", "sex", "sex"), ("population", "education", "education"), ("population", "income_quintile", "income"),
    ("population", "origin", "origin"), ("population", "labour_status", "labour"), ("imaging", "priority", "priority"),
    ("imaging", "referrer_type", "referrer"), ("imaging", "producer_type", "producer_type"),
    ("referrals_received", "exam_type", "exam_type"), ("returned_referrals", "exam_type", "exam_type"),
])
def test_the_contract_admits_exactly_the_vocabulary(table, column, name):
    assert _allowed(table, column) == set(VOCABULARIES[name].codes)


def test_the_generator_writes_the_vocabularies():
    assert set(synthetic.REFERRERS) == set(VOCABULARIES["referrer"].codes)
    assert set(synthetic.PRIORITIES) == set(VOCABULARIES["priority"].codes)
    assert set(synthetic.MODALITIES) == set(VOCABULARIES["modality"].codes)
    assert set(synthetic.PRODUCER_TYPES) == set(VOCABULARIES["producer_type"].codes)
    assert set(synthetic.EXAM_TYPES) == set(VOCABULARIES["exam_type"].codes)


def test_the_filters_offer_the_vocabularies_and_the_age_bands_of_the_settings():
    filters = vocabularies.filters()
    assert list(DIMENSIONS) == [v.url for v in filters]
    for v in filters:
        assert DIMENSIONS[v.url] == (v.name, v.codes, v.population)
    assert DIMENSIONS["age"][1] == tuple(b.label for b in load_settings().age_bands)
    assert {k for k, (_, _, pop) in DIMENSIONS.items() if pop} == {"sex", "age", "edu", "inc", "origin", "labour"}


@pytest.mark.parametrize("name", list(VOCABULARIES))
def test_every_code_has_an_english_and_a_danish_name(name):
    v = VOCABULARIES[name]
    key = v.url or v.name
    assert all(v.title)
    for code in v.codes:
        en, da = label(key, code, "en"), label(key, code, "da")
        assert en and da
        if isinstance(code, str) and name != "age_band":
            assert en != code, f"{name}: {code} has no English name"
    if v.url:
        assert LABELS["dimension"][v.url] == v.title
