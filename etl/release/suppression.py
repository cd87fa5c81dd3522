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
3. **Audit** (``etl.release.proofs``): for every hidden cell from 1 to ``min_count - 1``, linear
   programming over the relations seeks a table consistent with everything shown with the cell at
   ``min_count`` or more, first in small neighbourhoods of the cell (every other hidden cell at its
   true value), then in wider ones; proofs found in one round stand in the next. A cell without
   such a table (also one left unproven by the time limit) is *exposed*: one more shown cell is
   hidden in each of its relations (or, where none is left, one relation further) and steps 2-3
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

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from etl.release import proofs as proofs_
from etl.release.proofs import Budget


@dataclass
class SuppressionResult:
    hidden: np.ndarray                  # bool per cell
    primary: np.ndarray                 # bool per cell
    rounds: int = 0
    exposed_history: list[int] = field(default_factory=list)
    timeouts: int = 0                   # LP solves stopped by the time limit
    unpublished: np.ndarray | None = None   # bool per cell: its table is not published (joint fallback)

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


def exposed_cells(A, c, hidden, min_count, budget: Budget | None = None, proofs: dict | None = None,
                  seed: int = 0) -> np.ndarray:
    """Positions of hidden cells from 1 to ``min_count - 1`` that the published tables may give
    away: those for which no table consistent with everything published (every relation, every
    hidden cell a whole number of at least 1) with the cell at ``min_count`` or more was found
    (``etl.release.proofs``). A hidden cell of ``min_count`` or more that can be worked back is no
    disclosure (it could have been published): it only costs information, and the LP treats it as
    the equations make it. Conservative: a cell is only ever called safe with a table that proves
    it; one left unproven by the time limit (``budget``) counts as exposed. ``proofs`` (updated)
    carries proofs from round to round."""
    return proofs_.exposed_cells(A, c, hidden, min_count, budget=budget, proofs=proofs, seed=seed,
                                 lower_proof=False)


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
            cost: np.ndarray | None = None, budget: Budget | None = None,
            log: Callable[[str], None] | None = None) -> SuppressionResult:
    """Primary suppression, secondary suppression and audit-and-repair until the audit passes.

    ``cost`` (per cell, optional) steers the secondary suppression: among the cells that would
    do, the cheapest is hidden (the atlas gives the default views, counts for everyone, a higher
    cost, so that they stay whole wherever their own counts allow). ``budget`` limits the LP time
    of all rounds together: when it runs out the cells not yet proven count as exposed and, if
    that leaves any, ``RuntimeError`` is raised (nothing is to be published). ``log`` gets a line
    per round.
    """
    c = np.asarray(counts, dtype=float)
    primary = (c >= 1) & (c < min_count)
    hidden = primary.copy()
    result = SuppressionResult(hidden, primary)
    budget = budget or Budget(per_solve=60.0, total=600.0)
    proofs = {"up": np.zeros(c.size, dtype=bool), "down": np.zeros(c.size, dtype=bool)}
    for _ in range(max_rounds):
        t = time.perf_counter()
        secondary(A, c, hidden, min_count, cost)
        failing = exposed_cells(A, c, hidden, min_count, budget, proofs, seed=result.rounds)
        result.rounds += 1
        result.exposed_history.append(int(failing.size))
        result.timeouts = budget.timeouts
        if log:
            log(f"round {result.rounds}: {int(hidden.sum()):,} hidden, {failing.size:,} not yet proven safe "
                f"({time.perf_counter() - t:.1f} s)")
        if failing.size == 0:
            return result
        if budget.left() <= 0:
            raise RuntimeError(f"the time for its linear programs ({budget.total:.0f} s) ran out with "
                               f"{failing.size:,} hidden small counts not yet proven safe")
        stuck = len(result.exposed_history) > 1 and failing.size > 0.5 * result.exposed_history[-2]
        if _repair(A, c, hidden, failing, cost, 2.0 * min_count, blunt=stuck) == 0:
            break
    raise RuntimeError(f"suppression did not converge: {result.exposed_history[-1]} cells still exposed "
                       f"after {result.rounds} rounds")


def audit(A: sparse.csr_matrix, counts: np.ndarray, hidden: np.ndarray, min_count: int = 5,
          budget: Budget | None = None) -> dict:
    """The output check: no shown count in 1..min_count-1, no hidden cell exposed by any relation."""
    c = np.asarray(counts, dtype=float)
    shown_small = int(((c >= 1) & (c < min_count) & ~hidden).sum())
    exposed = exposed_cells(A, c, hidden, min_count, budget, seed=12345)
    return {"cells": int(c.size), "hidden": int(hidden.sum()), "shown_small": shown_small,
            "exposed": int(exposed.size), "relations": int(A.shape[0]),
            "passed": shown_small == 0 and exposed.size == 0}
