"""One registry to clear (atlas.cache): every memo made by ``cached`` and every hook registered with
``on_clear`` is cleared by ``clear_all``, so ``queries.clear_caches`` and ``db`` need not import the
pages whose answers they forget (the import circles of issue 30)."""
from __future__ import annotations

import pytest

from atlas import cache, data, db  # imported first: their memos and hooks are registered before a test's


@pytest.fixture
def registry():
    """The registry as it was, restored after the test (the test's own memo and hook taken off)."""
    memos, hooks = list(cache._MEMOS), list(cache._HOOKS)
    yield
    cache._MEMOS[:] = [m for m in cache._MEMOS if m in memos]
    cache._HOOKS[:] = [h for h in cache._HOOKS if h in hooks]


def test_clear_all_empties_every_memo_and_calls_every_hook(registry):
    computed, called = [], []

    @cache.cached(maxsize=8)
    def square(x):
        computed.append(x)
        return x * x

    def hook():
        called.append(True)

    assert cache.on_clear(hook) is hook
    cache.on_clear(hook)                          # registered once, however often asked
    assert (square(3), square(3)) == (9, 9) and computed == [3]
    cache.clear_all()
    assert square.cache_info().currsize == 0 and called == [True]
    assert square(3) == 9 and computed == [3, 3]


def test_the_data_layer_forgets_its_source_on_clear_all(registry):
    from atlas.data.source import SecureSource

    assert data.reset in cache._HOOKS
    data._source = SecureSource()                 # as after a first request (no database needed to forget it)
    cache.clear_all()
    assert data._source is None


def test_clear_caches_forgets_the_pages_answers_and_the_source(app_db):
    from atlas import all_trends, data, findings_panel, profile, queries
    from atlas.filters import View

    year = data.years()[-1]
    code = int(db.areas().query("level == 'municipality'")["code"].iloc[0])
    all_trends.yearly("imaging_rate", "region")
    profile.trends(code)
    findings_panel.findings_for(View(y0=year, y1=year))
    assert data._source is not None
    memos = (all_trends.yearly, profile.trends, findings_panel.findings_for, db.meta)
    assert all(f.cache_info().currsize > 0 for f in memos)
    queries.clear_caches()
    assert [f.__qualname__ for f in memos if f.cache_info().currsize] == []
    assert data._source is None
    assert data.years()[-1] == year                 # and the next question is answered afresh


def test_reset_caches_forgets_every_answer(app_db):
    from atlas import all_trends, data

    all_trends.yearly("imaging_rate", "region")
    db.reset_caches()
    assert all_trends.yearly.cache_info().currsize == 0 and data._source is None
