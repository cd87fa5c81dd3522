"""What the app's tables are made of, written once for both sources: the charts' measure and
dimension lists, the table columns, and the status of a cell.

A cell's ``status`` says why a figure is or is not there, and every page words it the same way
(:func:`status_word`): shown; hidden because its count is 1 to 4 ("small"); hidden to protect such
a count ("protect"); hidden for one of these two reasons when the source does not say which
("hidden": the release does not publish which, since that would narrow what a hidden cell can be);
too few events for a standardised figure ("few_events"); not published at this detail
("unpublished"); nobody in the selection ("empty"). A comparison that was not made (no
reference to compare with) is the flag "not_tested", never "within".
"""
from __future__ import annotations

from atlas.filters import DIMENSIONS

MIX_MEASURES = ("mri_share", "acute_share", "gp_share", "chiropractor_share", "specialist_share", "hospital_share",
                "private_share", "surgery_short_share", "surgery_long_share", "rehab_short_share", "rehab_long_share",
                "lowvalue_share")
BREAKDOWN_DIMS = ("sex", "age", "edu", "inc", "origin", "labour")
COLUMNS = ["num_shown", "den_shown", "value", "lower", "upper", "hidden", "expected", "flag", "status"]

SHOWN, SMALL, PROTECT, HIDDEN, FEW, UNPUBLISHED, EMPTY = (
    "shown", "small", "protect", "hidden", "few_events", "unpublished", "empty")
STATUSES = (SHOWN, SMALL, PROTECT, HIDDEN, FEW, UNPUBLISHED, EMPTY)
NOT_TESTED = "not_tested"
FLAGS = ("high_998", "high_95", "within", "low_95", "low_998", NOT_TESTED)

# The pathway tables: each imaging episode by referrer x modality x the most intensive thing that
# followed within 90 or 365 days (its window's column of ``episode_cube``). A row's hidden outcome
# cells are shown merged as one more outcome, ``OUTCOME_HIDDEN``.
OUTCOMES = ("surgery", "rehabilitation", "diagnosis", "none")
OUTCOME_HIDDEN = "hidden"
MODALITIES = DIMENSIONS["modality"][1]
REFERRERS = DIMENSIONS["referrer"][1]
WINDOWS = (90, 365)
WINDOW_COLUMN = {90: "outcome_short", 365: "outcome_long"}

STATUS_WORDS = {
    SHOWN: ("", ""),
    SMALL: ("hidden: 1-4", "skjult: 1-4"),
    PROTECT: ("hidden to protect a small count", "skjult for at beskytte et lille tal"),
    HIDDEN: ("hidden: 1-4, or to protect a count of 1-4", "skjult: 1-4, eller for at beskytte et tal på 1-4"),
    FEW: ("too few events for a standardised rate", "for få hændelser til en standardiseret rate"),
    UNPUBLISHED: ("not published at this detail", "ikke offentliggjort i denne detalje"),
    EMPTY: ("nobody in this selection", "ingen i dette udvalg"),
}


# the same, short enough for an axis label on a phone (the chart's notes and CSV carry the long words)
STATUS_SHORT = {
    SHOWN: ("", ""),
    SMALL: ("hidden: 1-4", "skjult: 1-4"),
    PROTECT: ("hidden", "skjult"),
    HIDDEN: ("hidden", "skjult"),
    FEW: ("few events", "få hændelser"),
    UNPUBLISHED: ("not published", "ikke offentliggjort"),
    EMPTY: ("nobody", "ingen"),
}


def status_word(status, lang: str) -> str:
    """A cell's status in the reader's language ("" for a shown cell or an unknown status)."""
    en, da = STATUS_WORDS.get(status, ("", ""))
    return da if lang == "da" else en


def row_status(row) -> str:
    """A row's status (a mapping or a named tuple with ``status`` and/or ``hidden``): tables made
    before statuses existed, or by a merge, fall back on ``hidden``."""
    get = row.get if hasattr(row, "get") else (lambda k, d=None: getattr(row, k, d))
    status = get("status", None)
    if isinstance(status, str) and status in STATUS_WORDS:
        return status
    hidden = get("hidden", False)
    return HIDDEN if isinstance(hidden, (bool, int)) and bool(hidden) else SHOWN


YEARLY_TABLE_COLUMNS = ["code", "name", "year", "count", "population", "flag", "status"]


def yearly_rows(tbl):
    """The rows of :meth:`atlas.data.source.Source.yearly_table` from tables of areas of single years
    (a ``year`` column added): ``count`` and ``population`` the ``num_shown`` and ``den_shown`` (both
    NaN where either is hidden), ``flag`` the funnel flag ("hidden" where the figure is hidden) and
    ``status`` (:func:`row_status`)."""
    import pandas as pd

    if not len(tbl):
        return pd.DataFrame(columns=YEARLY_TABLE_COLUMNS)
    hidden = tbl["hidden"].fillna(True).astype(bool) if "hidden" in tbl else False
    counts_hidden = tbl["num_shown"].isna() | tbl["den_shown"].isna()
    return pd.DataFrame({
        "code": tbl["code"].astype(int), "name": tbl["name"].astype(str), "year": tbl["year"].astype(int),
        "count": tbl["num_shown"].astype(float).where(~counts_hidden),
        "population": tbl["den_shown"].astype(float).where(~counts_hidden),
        "flag": tbl["flag"].astype(object).where(~hidden, "hidden"),
        "status": [row_status(r) for r in tbl.to_dict("records")]}).reset_index(drop=True)


def status_words(tbl, lang: str, short: bool = False):
    """Each row's status in words (a list; "" for shown rows); ``short``: the axis-label form."""
    import pandas as pd

    if tbl is None or not len(tbl):
        return []
    status = tbl["status"] if "status" in tbl else pd.Series([None] * len(tbl), index=tbl.index)
    hidden = tbl["hidden"].fillna(True).astype(bool) if "hidden" in tbl else pd.Series(False, index=tbl.index)
    out = []
    for s, h in zip(status, hidden):
        s = s if isinstance(s, str) and s in STATUS_WORDS else (HIDDEN if h else SHOWN)
        if not h and s != SHOWN and s not in (FEW, EMPTY):
            s = SHOWN
        if short:
            en, da = STATUS_SHORT.get(s, ("", ""))
            out.append(da if lang == "da" else en)
        else:
            out.append(status_word(s, lang))
    return out
