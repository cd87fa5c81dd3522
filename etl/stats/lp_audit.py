"""Linear-programming audit of a suppressed table (used by ``suppression``).

An intruder knows the shown cells, the published totals and that counts are non-negative (at
least 1 for hidden cells when zeros are always shown). Every published total containing a hidden
cell is an equation in the hidden cells; the smallest and largest value of a hidden cell (or of a
hidden total) consistent with these equations and bounds is found by linear programming, one
connected component of linked hidden cells at a time. A cell is exposed when that range, rounded
inwards to whole numbers, holds one value or only values in 1 .. min_count-1.

Reference: Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, section 4.4
(audit of suppression patterns by linear programming); the LPs are solved with HiGHS
(Huangfu Q, Hall JAJ (2018), Math Prog Comp 10:119-142) through ``scipy.optimize.linprog``.
"""
from __future__ import annotations

import numpy as np
from scipy import optimize
from scipy.sparse import csgraph

__all__: list[str] = []


def _components(c, hidden, B, published):
    """Hidden cells, equations of the published blocks touching them, and their components.

    Returns (H, A, b, label, row_comp): H the positions of hidden cells, A (CSR, equations x
    hidden cells) and b the equations "sum of hidden cells of a published block = its total
    minus its shown cells", label the connected component of each hidden cell (cells linked
    through shared equations) and row_comp the component of each equation.
    """
    H = np.flatnonzero(hidden)
    A = B[np.flatnonzero(published)][:, H].tocsr()
    A = A[np.flatnonzero(A.getnnz(axis=1) > 0)]
    b = A @ c[H]
    if A.shape[0]:
        _, label = csgraph.connected_components((A.T @ A).tocsr(), directed=False)
        row_comp = label[A.indices[A.indptr[:-1]]]  # any cell of the equation gives its component
    else:
        label = np.arange(H.size)
        row_comp = np.zeros(0, dtype=np.int64)
    return H, A, b, label, row_comp


def _lp_range(A_c, b_c, lower, j_local):
    """Exact min and max of variable j_local subject to A_c x = b_c, x >= lower."""
    obj = np.zeros(A_c.shape[1])
    obj[j_local] = 1.0
    bounds = np.column_stack([lower, np.full(lower.size, np.inf)])
    res_min = optimize.linprog(obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
    res_max = optimize.linprog(-obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
    if res_min.status != 0 or res_max.status not in (0, 3):
        return None
    return res_min.fun, (np.inf if res_max.status == 3 else -res_max.fun)


def _cell_ranges(c, hidden, lower_bound, B, published):
    """Range an intruder can derive for every hidden cell.

    Variables are the hidden cells, bounded below by ``lower_bound`` (no upper bound); every
    published block containing a hidden cell gives an equation (see ``_components``). The min
    and max of each hidden cell are found by linear programming (two LPs per cell), one
    connected component at a time. Returns (positions, lo, hi).
    """
    H, A, b, label, row_comp = _components(c, hidden, B, published)
    lo = np.asarray(lower_bound, dtype=float)[H].copy()
    hi = np.full(H.size, np.inf)
    for comp in np.unique(row_comp):
        vars_ = np.flatnonzero(label == comp)
        eqs = np.flatnonzero(row_comp == comp)
        A_c, b_c = A[eqs][:, vars_], b[eqs]
        lower = np.asarray(lower_bound, dtype=float)[H[vars_]]
        for j_local, j in enumerate(vars_):
            rng = _lp_range(A_c, b_c, lower, j_local)
            if rng is None:  # should not happen (the true table is feasible): report as pinned
                lo[j] = hi[j] = c[H[j]]
            else:
                lo[j], hi[j] = rng
    return H, lo, hi


def _integer_range(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest and largest whole number inside the real range [lo, hi] (counts are integers)."""
    with np.errstate(invalid="ignore"):
        return np.ceil(np.asarray(lo) - 1e-6), np.floor(np.asarray(hi) + 1e-6)


def _range_fails(lo: np.ndarray, hi: np.ndarray, min_count: int) -> np.ndarray:
    """A hidden cell is exposed if its range holds a single whole number, or only whole numbers
    in [1, min_count-1]. LP bounds can be fractional (tables of 3 or more dimensions); an intruder
    knows counts are whole numbers, so the range is first rounded inwards."""
    lo_i, hi_i = _integer_range(lo, hi)
    pinned = hi_i <= lo_i
    small = (lo_i >= 1) & (hi_i <= min_count - 1)
    return pinned | small


def _exposed_cells(c, hidden, lower_bound, B, published, min_count):
    """Positions of hidden cells that fail ``_range_fails`` (same answer as ``_cell_ranges``).

    Faster than two LPs per cell: a cell is cleared as soon as some feasible table shows it
    safe, i.e. with a value >= its "up" target (min_count for a small cell, value + 1 for a
    larger one) or <= its "down" target (0 for a small cell the intruder cannot bound away
    from 0, value - 1 for a larger one). Such tables are found in batches by maximising
    (minimising) the sum of the pending cells with each capped at (floored at) its target; the
    true table satisfies the caps, so every LP is feasible. Cells left over get the exact
    two-LP check.
    """
    H, A, b, label, row_comp = _components(c, hidden, B, published)
    lower_all = np.asarray(lower_bound, dtype=float)
    failing: list[int] = []
    tol = 1e-7
    for comp in np.unique(row_comp):
        vars_ = np.flatnonzero(label == comp)
        eqs = np.flatnonzero(row_comp == comp)
        A_c, b_c = A[eqs][:, vars_], b[eqs]
        lower = lower_all[H[vars_]]
        val = c[H[vars_]]
        small = (val >= 1) & (val < min_count)
        up = np.where(small, float(min_count), val + 1.0)
        down_ok = ~small | (lower < 0.5)
        down = np.where(small, 0.0, val - 1.0)
        down_ok &= down >= lower - tol
        pending = np.ones(vars_.size, dtype=bool)
        for direction in (1.0, -1.0):
            while True:
                active = pending if direction > 0 else pending & down_ok
                if not active.any():
                    break
                if direction > 0:
                    bounds = np.column_stack([lower, np.where(active, up, np.inf)])
                else:
                    bounds = np.column_stack([np.where(active, down, lower), np.full(lower.size, np.inf)])
                res = optimize.linprog(
                    -direction * active.astype(float), A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs"
                )
                if res.status != 0:
                    break
                hit = active & (
                    (res.x >= up - tol) if direction > 0 else (res.x <= down + tol)
                )
                if not hit.any():
                    break
                pending &= ~hit
        for j_local in np.flatnonzero(pending):
            rng = _lp_range(A_c, b_c, lower, j_local)
            if rng is None or _range_fails(np.array([rng[0]]), np.array([rng[1]]), min_count)[0]:
                failing.append(int(H[vars_[j_local]]))
    return np.asarray(sorted(failing), dtype=np.int64)


def _exposed_totals(c, hidden, lower_bound, B, published, min_count):
    """Hidden (unpublished) block totals between 1 and min_count-1 that can still be derived.

    The range of a block's total is its shown cells plus the min/max of the sum of its hidden
    cells under the published equations (two LPs per block). Returns block indices whose range
    holds only whole numbers in [1, min_count-1].
    """
    totals = B @ c
    small = np.flatnonzero(~published & (totals >= 1) & (totals < min_count))
    if small.size == 0:
        return small
    H, A, b, label, row_comp = _components(c, hidden, B, published)
    pos = np.full(c.size, -1)
    pos[H] = np.arange(H.size)
    lower_all = np.asarray(lower_bound, dtype=float)
    failing = []
    for blk in small:
        members = B.indices[B.indptr[blk]:B.indptr[blk + 1]]
        hid = members[hidden[members]]
        shown = c[members[~hidden[members]]].sum()
        if hid.size == 0:
            failing.append(blk)  # all cells shown: the total is their sum
            continue
        comps = np.unique(label[pos[hid]])
        vars_ = np.flatnonzero(np.isin(label, comps))
        eqs = np.flatnonzero(np.isin(row_comp, comps))
        obj = np.isin(H[vars_], hid).astype(float)
        bounds = np.column_stack([lower_all[H[vars_]], np.full(vars_.size, np.inf)])
        if eqs.size == 0:
            continue  # nothing links these cells to a published total: unbounded above
        A_c, b_c = A[eqs][:, vars_], b[eqs]
        res_min = optimize.linprog(obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
        res_max = optimize.linprog(-obj, A_eq=A_c, b_eq=b_c, bounds=bounds, method="highs")
        if res_min.status != 0 or res_max.status not in (0, 3):
            failing.append(blk)
            continue
        hi = np.inf if res_max.status == 3 else -res_max.fun
        if _range_fails(np.array([shown + res_min.fun]), np.array([shown + hi]), min_count)[0]:
            failing.append(blk)
    return np.asarray(failing, dtype=np.int64)
