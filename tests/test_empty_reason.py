"""What a chart with nothing to draw says: nobody in the selection, every number hidden, or every
area with too few events for a standardised rate (the secure database hides nothing, so its empty
standardised map must not say "hidden")."""
from __future__ import annotations

import pandas as pd

from atlas import notices
from atlas.i18n import t


def _table(status: list[str], hidden: list[bool]) -> pd.DataFrame:
    n = len(status)
    return pd.DataFrame({"code": range(101, 101 + n), "num_shown": [2.0] * n, "den_shown": [30.0] * n,
                         "hidden": hidden, "status": status, "value": [float("nan")] * n})


def test_every_area_with_too_few_events_is_named_so_not_hidden():
    tbl = _table(["few_events"] * 3, [True] * 3)
    assert notices.empty_reason(tbl) == "all_few_events"
    for lang in ("en", "da"):
        text = notices.message("all_few_events", lang)
        assert text != "all_few_events" and ("crude" in text or "rå" in text)
        assert "1-4" not in text and text != t("all_hidden", lang)


def test_hidden_areas_and_nobody_keep_their_own_words():
    assert notices.empty_reason(_table(["hidden", "few_events"], [True, True])) == "all_hidden"
    nobody = _table(["empty"] * 2, [True] * 2).assign(den_shown=0.0, num_shown=0.0)
    assert notices.empty_reason(nobody) == "empty_selection"
    assert notices.empty_reason(_table(["shown"], [False]).assign(value=3.0)) is None
