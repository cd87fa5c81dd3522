"""Return letters in the release: monthly counts per exam type and centre, and their sum over centres.

Each of ``referrals``, ``returned`` and ``letters`` is protected on its own: counts from 1 to
``min_count - 1`` are hidden (primary), and the sum over centres (``producer_id = 'all'``) is a
published margin, so a second cell of the month is hidden wherever one alone could be worked back
(secondary), then audited by linear programming like the rest of the release
(``etl.release.suppression``). Hidden counts are NULL.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import sparse

from etl.release.suppression import audit, protect

COUNTS = ("referrals", "returned", "letters")
ALL = "all"


def _relations(d: pd.DataFrame) -> sparse.csr_matrix:
    """One relation per month x exam type: the 'all' row minus its centres."""
    group = d.groupby(["month", "exam_type"], sort=False).ngroup().to_numpy()
    coef = np.where(d["producer_id"].to_numpy() == ALL, -1.0, 1.0)
    return sparse.csr_matrix((coef, (group, np.arange(len(d)))), shape=(group.max() + 1 if len(d) else 0, len(d)))


def protect_returns(con, min_count: int) -> tuple[pd.DataFrame, dict]:
    """The protected table, and the audit of its three counts."""
    d = con.execute("""
        SELECT month, exam_type, producer_id, centre, referrals, returned, letters FROM sec.returns_monthly
        UNION ALL
        SELECT month, exam_type, 'all', NULL, sum(referrals), sum(returned), sum(letters)
        FROM sec.returns_monthly GROUP BY month, exam_type
        ORDER BY month, exam_type, producer_id
    """).df()
    if d.empty:
        return d, {"passed": True, "cells": 0, "hidden": 0, "exposed": 0, "shown_small": 0, "relations": 0}
    A = _relations(d)
    results = {"passed": True, "cells": 0, "hidden": 0, "exposed": 0, "shown_small": 0, "relations": 0}
    out = d.copy()
    for c in COUNTS:
        counts = d[c].to_numpy(dtype=float)
        res = protect(A, counts, min_count)
        a = audit(A, counts, res.hidden, min_count)
        for k in ("cells", "hidden", "exposed", "shown_small", "relations"):
            results[k] += a[k]
        results["passed"] &= a["passed"]
        out[c] = pd.array(np.where(res.hidden, np.nan, counts), dtype="Int64")
    return out, results
