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
3. **Audit**: for every hidden cell from 1 to ``min_count - 1``, linear programming over the
   relations finds whether a table consistent with everything shown has the cell at
   ``min_count`` or more. A cell for which no such table exists is *exposed*: one more shown cell
   is hidden in each of its relations (or, where none is left, one relation further) and steps 2-3
   run again. A hidden cell of ``min_count`` or more that the relations pin down is no disclosure
   (it could have been published); it is left hidden, and the LP uses what it implies.

The audit is the proof: a release is written only when no hidden small cell can be narrowed into
1..min_count-1 by any linear combination of the published tables (a cell is called safe only with
a consistent LP table that attains ``min_count``; such a table may be fractional, so an intruder
using integer programming could in principle narrow the cell further: the attacker suite in the
tests runs that integer check).

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


def _pick(A: sparse.csr_matrix, c: np.ndarray, hidden: np.ndarray, rows: np.ndarray,
          cost: np.ndarray | None = None, capacity: float = 0.0, room: np.ndarray | None = None) -> np.ndarray:
    """One more cell to hide for each relation in ``rows``: the cheapest (``cost``: cells of the
    default views cost more), then one with ``room`` (by default its count; with subset relations,
    how far it could fall once hidden) of at least ``capacity`` (a partner that can give a small
    cell room to reach the threshold), then the one that helps most relations in need, then the
    smallest."""
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
    cost = np.zeros(c.size) if cost is None else cost
    weak = (c if room is None else room)[col] < capacity
    order = np.lexsort((col, c[col], -score[col], weak, cost[col], r))
    r, col = r[order], col[order]
    first = np.r_[True, r[1:] != r[:-1]]
    return np.unique(col[first])


def secondary(A, c, hidden, min_count, cost=None) -> int:
    """Apply rule 2 until no relation needs help. Changes ``hidden`` in place; returns cells added."""
    added = 0
    while True:
        rows = np.flatnonzero(_needy(A, c, hidden, min_count))
        picks = _pick(A, c, hidden, rows, cost, 2.0 * min_count)
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


def exposed_cells(A, c, hidden, min_count, tol: float = 1e-6, exact_limit: int = 25,
                  seed: int = 0) -> np.ndarray:
    """Positions of hidden cells from 1 to ``min_count - 1`` that the published tables give away.

    A hidden small cell is safe if some table consistent with everything published (every
    relation, every hidden cell a whole number of at least 1) has it at ``min_count`` or more:
    then the intruder cannot tell it from a publishable count. A hidden cell of ``min_count`` or
    more that can be worked back is no disclosure (it could have been published): it only costs
    information, and the LP below treats it as the equations make it.

    Safe cells are found in batches over the whole system at once (its connected components are
    independent, so one LP solves them all): maximise a randomly weighted sum of the pending
    cells, each capped at ``min_count``; the true table satisfies the caps, so every LP is
    feasible; a cell reaching ``min_count`` in an LP solution is proven safe. The cells left then
    get an exact check (maximise the cell), up to ``exact_limit`` cells per component; beyond that
    they are reported as exposed without the check. Both are conservative: a cell is only ever
    called safe with a table that proves it.
    """
    H, AH, b, label, row_comp = _system(A, c, hidden)
    if H.size == 0:
        return np.zeros(0, dtype=np.int64)
    in_relation = np.zeros(H.size, dtype=bool)
    if AH.shape[0]:
        in_relation[np.unique(AH.indices)] = True
    val = c[H]
    lower = np.ones(H.size)
    free = np.full(H.size, np.inf)
    target = float(min_count)
    pending = in_relation & (val < min_count)
    rng = np.random.default_rng(seed)
    misses = 0
    while misses < 3 and pending.any():
        # random weights reach different corners of the feasible tables, so cells that
        # compete for the same slack are cleared over a few LPs instead of one each
        w = np.where(pending, rng.uniform(0.5, 1.5, H.size), 0.0)
        res = _lp(-w, AH, b, lower, np.where(pending, target, free))
        if res.status != 0:
            break
        hit = pending & (res.x >= target - tol)
        pending &= ~hit
        misses = 0 if hit.any() else misses + 1
    failing: list[int] = []
    for comp in np.unique(label[pending]):
        vars_ = np.flatnonzero(label == comp)
        todo = vars_[pending[vars_]]
        if todo.size > exact_limit:
            failing.extend(int(h) for h in H[todo])
            continue
        eqs = np.flatnonzero(row_comp == comp)
        A_c, b_c = AH[eqs][:, vars_], b[eqs]
        pos = {v: i for i, v in enumerate(vars_)}
        for v in todo:
            obj = np.zeros(vars_.size)
            obj[pos[v]] = -1.0
            hi = _lp(obj, A_c, b_c, lower[vars_], free[vars_])
            hi_v = np.inf if hi.status == 3 else (np.floor(-hi.fun + tol) if hi.status == 0 else val[v])
            if hi_v < min_count:
                failing.append(int(H[v]))
    return np.asarray(sorted(failing), dtype=np.int64)


def _repair(A, c, hidden, failing, cost=None, capacity: float = 0.0, max_hops: int = 4,
            blunt: bool = False) -> int:
    """Hide one more shown non-zero cell in each relation of each exposed cell.

    Where those relations have none left (every other cell hidden or zero), look one relation
    further: the relations of the hidden cells they hold, and so on. ``blunt`` (used when a round
    did not reduce the exposed cells) hides every shown non-zero cell of those relations.
    """
    Ac = abs(A).tocsc()
    Ar = abs(A).tocsr()
    cells = np.asarray(failing)
    for _ in range(max_hops):
        rels = np.unique(Ac[:, cells].tocoo().row)
        if blunt:
            reached = np.unique(Ar[rels].tocoo().col)
            picks = reached[~hidden[reached] & (c[reached] > 0)]
            if cost is not None and picks.size:
                picks = picks[cost[picks] == cost[picks].min()]      # spare the default views
            if picks.size:
                hidden[picks] = True
                return picks.size
        picks = _pick(A, c, hidden, rels, cost, capacity)
        if picks.size:
            hidden[picks] = True
            return picks.size
        reached = np.unique(Ar[rels].tocoo().col)
        cells = reached[hidden[reached]]
    return 0


def protect(A: sparse.csr_matrix, counts: np.ndarray, min_count: int = 5, max_rounds: int = 50,
            cost: np.ndarray | None = None) -> SuppressionResult:
    """Primary suppression, secondary suppression and audit-and-repair until the audit passes.

    ``cost`` (per cell, optional) steers the secondary suppression: among the cells that would
    do, the cheapest is hidden (the atlas gives the default views, counts for everyone, a higher
    cost, so that they stay whole wherever their own counts allow).
    """
    c = np.asarray(counts, dtype=float)
    primary = (c >= 1) & (c < min_count)
    hidden = primary.copy()
    result = SuppressionResult(hidden, primary)
    for _ in range(max_rounds):
        secondary(A, c, hidden, min_count, cost)
        failing = exposed_cells(A, c, hidden, min_count)
        result.rounds += 1
        result.exposed_history.append(int(failing.size))
        if failing.size == 0:
            return result
        stuck = len(result.exposed_history) > 1 and failing.size > 0.5 * result.exposed_history[-2]
        if _repair(A, c, hidden, failing, cost, 2.0 * min_count, blunt=stuck) == 0:
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
