"""Primary and secondary suppression over linked tables, and its audit by linear programming.

The cells are every count of the publication plan; the relations (``etl.release.relations``) are
every ``parent = sum of children`` an intruder can use. The intruder knows the shown cells, the
relations, and that a hidden cell is a whole number of at least 1 (zeros are always shown, so a
hidden cell is never 0).

1. **Primary**: a count from 1 to ``min_count - 1`` is hidden.
2. **Secondary** (greedy, vectorised, repeated until nothing changes): a relation with exactly one
   hidden cell gives that cell away, and a relation whose shown parent leaves its hidden children
   too little mass (their known sum minus 1 for every other hidden child is below ``min_count``)
   narrows them into 1..min_count-1. Each such relation gets one more cell hidden: the candidate
   (a shown, non-zero cell of the relation) that helps the most relations in need at once (so
   hidden cells form closed rectangles across geography, time and filter sets, the "hypercube"
   idea of tau-argus), then the smallest count.
3. **Audit**: for every hidden cell, linear programming over the relations finds whether a table
   consistent with everything shown has the cell at ``min_count`` or more (a small cell) or at
   another value than its own (a larger cell). A cell for which no such table exists is
   *exposed*: one of its shown neighbours is hidden and steps 2-3 run again.

The audit is the proof: a release is written only when no hidden cell can be pinned to one value
or narrowed into 1..min_count-1 by any combination of the published tables (LP bounds rounded
inwards; exact integer programming could at most be tighter by less than one).

Reference: Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (linked and
hierarchical tables, secondary suppression, audit by linear programming); de Wolf PP (2002).
HiTaS: a heuristic approach to cell suppression in hierarchical tables (the hypercube method).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import csgraph


@dataclass
class SuppressionResult:
    hidden: np.ndarray                  # bool per cell
    primary: np.ndarray                 # bool per cell
    rounds: int = 0
    exposed_history: list[int] = field(default_factory=list)

    @property
    def secondary(self) -> np.ndarray:
        return self.hidden & ~self.primary


def _needy(A: sparse.csr_matrix, c: np.ndarray, hidden: np.ndarray, min_count: int) -> np.ndarray:
    """Relations that give a hidden cell away or narrow it into 1..min_count-1."""
    absA = abs(A)
    h = hidden.astype(float)
    k = absA @ h
    needy = k == 1
    # shown parent, hidden children only: their sum is known exactly
    parent_hidden = (A.minimum(0) != 0).astype(float) @ h > 0
    children = A.maximum(0)
    mass = children @ (c * h)
    needy |= (~parent_hidden) & (k >= 2) & (mass - (k - 1) < min_count) & (mass > 0)
    return needy


def _pick(A: sparse.csr_matrix, c: np.ndarray, hidden: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One more cell to hide for each relation in ``rows``: helps most relations in need, then smallest."""
    if rows.size == 0:
        return np.zeros(0, dtype=np.int64)
    absA = abs(A)
    need = np.zeros(A.shape[0])
    need[rows] = 1.0
    score = absA.T @ need                        # relations in need each cell belongs to
    sub = absA[rows].tocoo()
    cand = (~hidden[sub.col]) & (c[sub.col] > 0)
    r, col = sub.row[cand], sub.col[cand]
    if r.size == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((col, c[col], -score[col], r))
    r, col = r[order], col[order]
    first = np.r_[True, r[1:] != r[:-1]]
    return np.unique(col[first])


def secondary(A, c, hidden, min_count) -> int:
    """Apply rule 2 until no relation needs help. Changes ``hidden`` in place; returns cells added."""
    added = 0
    while True:
        rows = np.flatnonzero(_needy(A, c, hidden, min_count))
        picks = _pick(A, c, hidden, rows)
        if picks.size == 0:
            return added
        hidden[picks] = True
        added += picks.size


def _system(A, c, hidden):
    """Hidden cells H, the equations A_H x = b over them, and their connected components."""
    H = np.flatnonzero(hidden)
    AH = A[:, H].tocsr()
    rows = np.flatnonzero(AH.getnnz(axis=1) > 0)
    AH = AH[rows]
    shown = ~hidden
    b = -(A[rows][:, np.flatnonzero(shown)] @ c[shown])
    if AH.shape[0]:
        _, label = csgraph.connected_components((abs(AH).T @ abs(AH)).tocsr(), directed=False)
        row_comp = label[AH.indices[AH.indptr[:-1]]]
    else:
        label, row_comp = np.arange(H.size), np.zeros(0, dtype=np.int64)
    return H, AH, b, label, row_comp


def _lp(obj, A_eq, b_eq, lower, upper):
    return optimize.linprog(obj, A_eq=A_eq, b_eq=b_eq, bounds=np.column_stack([lower, upper]), method="highs")


def exposed_cells(A, c, hidden, min_count, tol: float = 1e-6) -> np.ndarray:
    """Positions of hidden cells that some combination of the published tables gives away.

    A small cell (1..min_count-1) is safe if a consistent table has it at min_count or more; a
    larger cell if a consistent table has it one above or one below its value. Safe cells are
    found in batches (maximise the sum of pending cells, each capped at its target; the true
    table satisfies the caps, so every LP is feasible); the rest get an exact check.
    """
    H, AH, b, label, row_comp = _system(A, c, hidden)
    failing: list[int] = []
    for comp in np.unique(label):
        vars_ = np.flatnonzero(label == comp)
        eqs = np.flatnonzero(row_comp == comp)
        val = c[H[vars_]]
        if eqs.size == 0:
            continue                          # in no relation: nothing bounds it
        A_c, b_c = AH[eqs][:, vars_], b[eqs]
        lower = np.ones(vars_.size)
        small = val < min_count
        up = np.where(small, float(min_count), val + 1.0)
        down = val - 1.0
        pending = np.ones(vars_.size, dtype=bool)
        rng = np.random.default_rng(comp)
        for direction in (1.0, -1.0):
            eligible = np.ones(vars_.size, dtype=bool) if direction > 0 else (~small & (down >= 1.0))
            misses = 0
            while misses < 3:
                active = pending & eligible
                if not active.any():
                    break
                # random weights reach different corners of the feasible tables, so cells that
                # compete for the same slack are cleared over a few LPs instead of one each
                w = np.where(active, rng.uniform(0.5, 1.5, vars_.size), 0.0)
                if direction > 0:
                    res = _lp(-w, A_c, b_c, lower, np.where(active, up, np.inf))
                else:
                    res = _lp(w, A_c, b_c, np.where(active, down, lower), np.full(vars_.size, np.inf))
                if res.status != 0:
                    break
                hit = active & ((res.x >= up - tol) if direction > 0 else (res.x <= down + tol))
                pending &= ~hit
                misses = 0 if hit.any() else misses + 1
        for j in np.flatnonzero(pending):
            obj = np.zeros(vars_.size)
            obj[j] = 1.0
            lo = _lp(obj, A_c, b_c, lower, np.full(vars_.size, np.inf))
            hi = _lp(-obj, A_c, b_c, lower, np.full(vars_.size, np.inf))
            lo_v = np.ceil(lo.fun - tol) if lo.status == 0 else val[j]
            hi_v = np.inf if hi.status == 3 else (np.floor(-hi.fun + tol) if hi.status == 0 else val[j])
            if hi_v <= lo_v or hi_v < min_count:
                failing.append(int(H[vars_[j]]))
    return np.asarray(sorted(failing), dtype=np.int64)


def _repair(A, c, hidden, failing) -> int:
    """Hide the smallest shown non-zero cell sharing a relation with each exposed cell."""
    Ac = abs(A).tocsc()
    rels = np.unique(Ac[:, failing].tocoo().row)
    picks = _pick(A, c, hidden, rels)
    hidden[picks] = True
    return picks.size


def protect(A: sparse.csr_matrix, counts: np.ndarray, min_count: int = 5, max_rounds: int = 50) -> SuppressionResult:
    """Primary suppression, secondary suppression and audit-and-repair until the audit passes."""
    c = np.asarray(counts, dtype=float)
    primary = (c >= 1) & (c < min_count)
    hidden = primary.copy()
    result = SuppressionResult(hidden, primary)
    for _ in range(max_rounds):
        secondary(A, c, hidden, min_count)
        failing = exposed_cells(A, c, hidden, min_count)
        result.rounds += 1
        result.exposed_history.append(int(failing.size))
        if failing.size == 0:
            return result
        if _repair(A, c, hidden, failing) == 0:
            break
    raise RuntimeError(f"suppression did not converge: {result.exposed_history[-1]} cells still exposed "
                       f"after {result.rounds} rounds")


def audit(A: sparse.csr_matrix, counts: np.ndarray, hidden: np.ndarray, min_count: int = 5) -> dict:
    """The output check: no shown count in 1..min_count-1, no hidden cell exposed by any relation."""
    c = np.asarray(counts, dtype=float)
    shown_small = int(((c >= 1) & (c < min_count) & ~hidden).sum())
    exposed = exposed_cells(A, c, hidden, min_count)
    return {"cells": int(c.size), "hidden": int(hidden.sum()), "shown_small": shown_small,
            "exposed": int(exposed.size), "relations": int(A.shape[0]),
            "passed": shown_small == 0 and exposed.size == 0}
