"""Suppression and audit over all counts of the release at once (equalities and subset inequalities).

Status: the joint *audit* runs on every release and is reported (``exposed_cells``, from
``etl.release.proofs``); the joint *protection* (``protect``, starting from the per-count pattern)
is the publication plan's default gate (``joint_protection``; ``--joint-gate off`` measures only;
docs/methods.md says what it costs).

The cells are every count of the publication plan; the relations (``etl.release.relations``) are
every ``parent = sum of children`` (``A @ n == 0``) and every ``subset <= superset`` across counts
(``G @ n <= 0``) an intruder can use. The intruder knows the shown cells, the relations, and that
a hidden cell is a whole number of at least 1 (zeros are always shown, so a hidden cell is never 0).

**Protection interval.** A hidden count n from 1 to ``min_count - 1`` is protected when a table
consistent with everything published exists with the cell at ``min_count`` or more (tau-argus'
upper protection level ``min_count - n``): the intruder can then neither prove it below
``min_count`` nor pin it (its largest value is above n, its smallest at most n). The lower end is
measured (``lower_proof``), not required: zeros are published, so a hidden count made of k hidden
non-zero parts (a period of two hidden years) is at least k to anyone, and no suppression pattern
can bring its floor to 1 (tau-argus' lower protection level ``n - 1`` cannot be met there). Hidden
cells of ``min_count`` or more carry no requirement (they could have been published): they may be
pinned, and the audit uses what the relations imply for them.

1. **Primary**: a count from 1 to ``min_count - 1`` is hidden.
2. **Secondary** (greedy, vectorised, repeated until nothing changes): an equality with exactly
   one hidden cell gives that cell away, and one whose shown parent leaves its hidden children too
   little mass narrows them. Each such relation gets one more cell hidden: the cheapest (``cost``:
   Denmark never, unless nothing else is left; then the default views; a region last among the
   rest), then one large enough to carry a small cell to the threshold, then the one that helps
   most relations in need at once (closed rectangles across geography, time and filter sets, the
   "hypercube" idea of tau-argus), then the smallest.
3. **Audit** (``exposed_cells``): linear programming (HiGHS, sparse) over every relation at once
   finds for each hidden small cell a consistent table with it at ``min_count`` or more (and, with
   ``lower_proof``, one with it at 1). Proofs are sought in growing neighbourhoods, every hidden cell outside one fixed
   at its true value (so a table found there is a table of the whole system): each count alone,
   then the cells within 1 and 3 relations, then whole components. A proof is an LP table; the
   audit counts how many were integral (a fractional one defeats an intruder using linear
   programming; one using integer programming could in principle narrow the cell further, which
   the attacker suite checks). A cell without its proofs is *exposed*; one more shown cell is
   hidden in each of its relations and 2-3 run again.
   A solve that runs out of its time budget proves nothing: its cells count as exposed, so the
   fallback is always to hide more, never to publish a cell unproven.

Reference: Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (linked and
hierarchical tables, protection levels, secondary suppression, audit by linear programming);
de Wolf PP (2002). HiTaS: a heuristic approach to cell suppression in hierarchical tables;
Huangfu Q, Hall JAJ (2018). Parallelizing the dual revised simplex method. Math Prog Comp 10.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from scipy import sparse

from etl.release.proofs import Budget, _empty, exposed_cells
from etl.release.suppression import SuppressionResult, _pick, secondary  # rule 2 is one code for both

__all__ = ["Budget", "SuppressionResult", "audit", "chain_twins", "exposed_cells", "least_values", "protect",
           "secondary_bounded"]





# ------------------------------------------------------------------- rule 2 with subset bounds

def least_values(G: sparse.csr_matrix, c: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    """The least each cell can be, were it hidden, given what is shown: 1 (a hidden cell is never
    0), or more where it is the only hidden (or would-be hidden) superset of an inequality whose
    subset side is known (shown cells at their value, hidden ones at their least, 1). Example: a
    municipality's imaging hidden as a partner can fall no lower than its shown first imagings."""
    lb = np.where(c > 0, 1.0, 0.0)
    if G.shape[0] == 0:
        return lb
    plus = G.maximum(0).tocsr()
    minus = (-G.minimum(0)).tocoo()
    h = hidden.astype(float)
    known = plus @ np.where(hidden, 1.0, c)                      # the subset side, at least
    shown_minus = (-G.minimum(0)) @ np.where(hidden, 0.0, c)
    hidden_minus = (-G.minimum(0)) @ h
    r, y = minus.row, minus.col
    others_hidden = hidden_minus[r] - h[y]
    ok = others_hidden == 0
    value = known[r] - (shown_minus[r] - np.where(hidden[y], 0.0, c[y]))
    np.maximum.at(lb, y[ok], value[ok])
    return lb


def _needy_bounded(A, c, hidden, min_count, lb) -> np.ndarray:
    """Relations that give a hidden cell away or narrow it into 1..min_count-1, with the hidden
    cells' least values: a shown parent's hidden children sum to ``S``; a small child reaches at
    most ``S`` less the least values of the others."""
    absA = abs(A).tocsr()
    h = hidden.astype(float)
    k = absA @ h
    needy = k == 1
    parent_hidden = (A.minimum(0) != 0).astype(float) @ h > 0
    children = A.maximum(0).tocsr()
    S = children @ (c * h)
    L = children @ (lb * h)
    small = hidden & (c >= 1) & (c < min_count)
    # the largest least value among a relation's small hidden children (its own, not the others')
    big = children.multiply(np.where(small, lb, 0.0)).tocsr().max(axis=1).toarray().ravel()
    has_small = (children @ small.astype(float)) > 0
    reach = S - L + big
    needy |= (~parent_hidden) & (k >= 2) & has_small & (reach < min_count)
    return needy


def secondary_bounded(A, G, c, hidden, min_count, cost=None, max_rounds: int = 200) -> int:
    """Rule 2 over all counts, with the least values the subset inequalities give hidden partners:
    a partner pinned from below by its shown subsets carries no room, so another is hidden."""
    added = 0
    for _ in range(max_rounds):
        lb = least_values(G, c, hidden)
        rows = np.flatnonzero(_needy_bounded(A, c, hidden, min_count, lb))
        picks = _pick(A, c, hidden, rows, cost, 2.0 * min_count, room=c - lb)
        if picks.size == 0:
            return added
        hidden[picks] = True
        added += picks.size
    return added


def _beside(absM: sparse.csr_matrix, cells: np.ndarray) -> np.ndarray:
    """The cells that share a relation (a row of ``absM``, |coefficients|) with any of ``cells``,
    these included."""
    F = sparse.csr_matrix((np.ones(cells.size), (np.arange(cells.size), cells)), shape=(cells.size, absM.shape[1]))
    return np.unique(((F @ absM.T) @ absM).tocoo().col)


def chain_twins(A, G, c, hidden, min_count, cost=None, keep=None, max_rounds: int = 30) -> int:
    """Where a cell and its subset or superset twin (same area, period and filters, another count)
    are within ``min_count`` of each other, hide the shown twin of a hidden one: the subset of a
    hidden superset (which may have to fall), the superset of a hidden subset of ``min_count`` or
    more (which may have to rise); then rule 2 for the cells so hidden; until nothing changes.
    Changes ``hidden``; returns cells added. ``keep`` (bool per cell, optional): cells this rule
    never hides (the default views and Denmark: where they matter, the joint gate's repair finds
    cheaper cells first).

    Why: the counts are protected one by one, and each pattern is proven for its count alone. A
    table that carries a small count to ``min_count`` moves it and its partners by up to
    ``min_count - 1``; where a twin across counts is that close, it must move too, and a shown twin
    cannot. Example: first imagings 4 + 10 + 30 with the 4 and the 10 hidden, episodes 4 + 10 + 8
    with the 4 and the 8 hidden: the shown episode 10 holds first's 10 down, so first's 4 is at
    most 4, and the episode's 4 with it. Measured on the demo data (scale 0.1): the joint audit's
    first round found 985 such cells without this step and 357 with it (3,731 twins hidden;
    docs/methods.md)."""
    twin = G.getnnz(axis=1) == 2
    if not twin.any():
        return 0
    T = G[np.flatnonzero(twin)].tocoo()
    order = np.lexsort((-T.data, T.row))               # per row: subset (+1) first, then superset
    sub, sup = T.col[order][0::2], T.col[order][1::2]
    close = np.abs(c[sub] - c[sup]) < min_count
    keep = np.zeros(c.size, dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
    sub, sup = sub[close], sup[close]
    added = 0
    for _ in range(max_rounds):
        add = np.zeros(c.size, dtype=bool)
        # a hidden superset may have to fall: its close shown subset must be free to fall with it
        m = hidden[sup] & ~hidden[sub] & (c[sub] > 0) & ~keep[sub]
        add[sub[m]] = True
        # a hidden subset of min_count or more may have to rise; a small one reaches min_count under
        # any shown superset (never below min_count), so the default views are not touched for it
        m = hidden[sub] & ~hidden[sup] & (c[sub] >= min_count) & ~keep[sup]
        add[sup[m]] = True
        k = int(add.sum())
        hidden |= add
        k += secondary(A, c, hidden, min_count, cost)
        added += k
        if k == 0:
            break
    return added


# ------------------------------------------------------------------------------- repair and loop

def _binding(A, c, hidden, failing, min_count) -> np.ndarray:
    """Equalities in which an exposed cell is a child of a shown parent that leaves the hidden
    children too little room to carry it to ``min_count`` (the parent less the shown children
    less 1 for every other hidden child): more must be hidden there."""
    h = hidden.astype(float)
    children = A.maximum(0).tocsr()
    parent_shown = (A.minimum(0) != 0).astype(float) @ h == 0
    k = children @ h
    room = children @ (c * h) - (k - 1)                     # the hidden children's sum, less the others at 1
    tight = parent_shown & (room < min_count)
    F = np.zeros(c.size)
    F[failing] = 1.0
    return np.flatnonzero(tight & ((children @ F) > 0))


def _repair(M, c, hidden, failing, cost=None, capacity: float = 0.0, blunt: bool = False) -> int:
    """Hide one more shown non-zero cell next to each exposed cell: of the cells sharing a relation
    (equality or inequality) with it, the cheapest, then one large enough to carry it past the
    threshold, then the one next to most exposed cells, then the smallest. Where none is left,
    the cells next to its hidden neighbours are tried. ``blunt`` (when rounds stop reducing the
    exposed cells) hides every such cell of the lowest cost instead of one."""
    absM = abs(M).tocsr()
    cost = np.zeros(c.size) if cost is None else cost
    cells = np.asarray(failing)
    added = 0
    for _ in range(3):
        if cells.size == 0:
            break
        F = sparse.csr_matrix((np.ones(cells.size), (np.arange(cells.size), cells)), shape=(cells.size, c.size))
        P = ((F @ absM.T) @ absM).tocoo()            # exposed cell x cells sharing a relation with it
        ok = (~hidden[P.col]) & (c[P.col] > 0)
        r, col = P.row[ok], P.col[ok]
        if blunt:
            keep = cost[col] == (np.min(cost[col]) if col.size else 0)
            picks = np.unique(col[keep])
        else:
            score = np.bincount(col, minlength=c.size)
            order = np.lexsort((col, c[col], -score[col], c[col] < capacity, cost[col], r))
            r, col = r[order], col[order]
            first = np.r_[True, r[1:] != r[:-1]] if r.size else np.zeros(0, dtype=bool)
            picks = np.unique(col[first])
        hidden[picks] = True
        added += picks.size
        # exposed cells with no candidate: look from their hidden neighbours
        done = np.zeros(cells.size, dtype=bool)
        done[np.unique(r)] = True
        stuck = cells[~done]
        if stuck.size == 0:
            break
        near = _beside(absM, stuck)
        cells = near[hidden[near] & ~np.isin(near, stuck)]
    return added


def _free_partners(A, G, c, hidden, cells, cost=None) -> int:
    """For cells pinned from below: the shown supersets (in ``G``, ``subset - superset <= 0``) of
    their hidden partners in the equalities; the cheapest of each partner's is hidden. Returns how
    many cells were hidden."""
    cost = np.zeros(c.size) if cost is None else cost
    # a cell's floor is also its hidden subsets' floor (low-value <= episode <= first <= imaging)
    below = (G.maximum(0).T @ (-G.minimum(0))).tocsr()          # superset x subset
    for _ in range(3):
        sub = np.unique(below[cells].tocoo().col)
        sub = sub[hidden[sub]]
        grown = np.union1d(cells, sub)
        if grown.size == cells.size:
            break
        cells = grown
    partners = _beside(abs(A).tocsr(), cells)
    partners = partners[hidden[partners] & ~np.isin(partners, cells)]
    if partners.size == 0:
        return 0
    P = sparse.csr_matrix((np.ones(partners.size), (np.arange(partners.size), partners)), shape=(partners.size, c.size))
    rows = np.unique((P @ G.maximum(0).T).tocoo().col)            # inequalities where a partner is the subset
    sup = (-G.minimum(0))[rows].tocoo()
    ok = ~hidden[sup.col] & (c[sup.col] > 0)
    r, col = sup.row[ok], sup.col[ok]
    if col.size == 0:
        return 0
    order = np.lexsort((c[col], cost[col], r))
    r, col = r[order], col[order]
    first = np.r_[True, r[1:] != r[:-1]]
    picks = np.unique(col[first])
    hidden[picks] = True
    return int(picks.size)


def protect(A: sparse.csr_matrix, counts: np.ndarray, min_count: int = 5, max_rounds: int = 60,
            cost: np.ndarray | None = None, G: sparse.csr_matrix | None = None,
            budget: Budget | None = None, log: Callable[[str], None] | None = None,
            lower_proof: bool = True, start: np.ndarray | None = None,
            group: np.ndarray | None = None, stats: dict | None = None,
            views: np.ndarray | None = None, keep_views: np.ndarray | None = None,
            spare: np.ndarray | None = None) -> SuppressionResult:
    """Primary suppression, secondary suppression and audit-and-repair until the audit passes.

    ``cost`` (per cell, optional) steers the secondary suppression: among the cells that would
    do, the cheapest is hidden. ``start`` (bool per cell, optional) is a pattern to begin from
    (e.g. the per-count protection): it must hide every primary cell. Raises ``RuntimeError`` when no pattern passes within
    ``max_rounds`` or the budget (nothing is then published), unless ``views`` (a table number per
    cell) is given: then the tables still holding a cell not proven are not published at all
    (``_unpublish``), except those ``keep_views`` marks (bool per table), which only an error stops.
    """
    c = np.asarray(counts, dtype=float)
    G = _empty(c.size) if G is None else G
    M = sparse.vstack([A, G]).tocsr()
    budget = budget or Budget()
    primary = (c >= 1) & (c < min_count)
    hidden = primary.copy() if start is None else (np.asarray(start, dtype=bool) | primary)
    result = SuppressionResult(hidden, primary)
    proofs = {"up": np.zeros(c.size, dtype=bool), "down": np.zeros(c.size, dtype=bool)}
    for _ in range(max_rounds):
        t = time.perf_counter()
        secondary(A, c, hidden, min_count, cost)
        before = budget.timeouts
        failing = exposed_cells(A, c, hidden, min_count, G, budget, seed=result.rounds, proofs=proofs,
                                lower_proof=lower_proof, group=group, stats=stats)
        result.rounds += 1
        result.exposed_history.append(int(failing.size))
        result.timeouts = budget.timeouts
        if log:
            log(f"round {result.rounds}: {int(hidden.sum()):,} hidden, {failing.size:,} exposed"
                f"{f', {budget.timeouts - before} solves timed out' if budget.timeouts > before else ''}"
                f" ({time.perf_counter() - t:.1f} s)")
        if failing.size == 0:
            return result
        if budget.left() <= 0:
            break
        stuck = len(result.exposed_history) > 2 and failing.size > 0.7 * result.exposed_history[-2]
        # first where a relation of an exposed cell is too tight to carry it, then around the rest
        # an exposed cell may be held down by a hidden superset (a subset inequality): that one's
        # relations need room too
        ext = failing
        if G.shape[0]:
            F = np.zeros(c.size)
            F[failing] = 1.0
            rows_g = (G.maximum(0) @ F) > 0
            sup = np.unique((-G.minimum(0))[np.flatnonzero(rows_g)].tocoo().col)
            ext = np.union1d(failing, sup[hidden[sup]])
        rows = _binding(A, c, hidden, ext, min_count)
        picks = _pick(A, c, hidden, rows, cost, 2.0 * min_count)
        hidden[picks] = True
        covered = np.zeros(c.size, dtype=bool)
        if rows.size:
            covered[np.unique(A.maximum(0)[rows].tocoo().col)] = True
        # a cell that can reach min_count but not 1 is held up by its partners: each of them can rise
        # no higher than a shown superset allows; hiding those supersets gives the partners room
        low = failing[proofs["up"][failing]]
        lifted = _free_partners(A, G, c, hidden, low, cost) if low.size and G.shape[0] else 0
        rest = failing[~covered[failing] & ~proofs["up"][failing]] if lifted else failing[~covered[failing]]
        added = picks.size + lifted + (_repair(M, c, hidden, rest, cost, 2.0 * min_count, blunt=stuck) if rest.size else 0)
        if added == 0:
            break
    if views is not None and result.exposed_history:
        fallback = Budget(per_solve=budget.per_solve, total=max(120.0, budget.total))
        return _unpublish(A, G, M, c, hidden, failing, min_count, cost, np.asarray(views), keep_views, proofs, result,
                          fallback, log, lower_proof, group, stats, spare)
    raise RuntimeError(f"suppression did not converge: {result.exposed_history[-1]} cells still exposed "
                       f"after {result.rounds} rounds ({budget.timeouts} solves timed out)")


def _unpublish(A, G, M, c, hidden, failing, min_count, cost, views, keep_views, proofs, result, budget, log,
               lower_proof, group, stats, spare=None, max_rounds: int = 20) -> SuppressionResult:
    """The safe way out when the rounds or the time run out: publish less, never a cell unproven.

    Every table (``views``: count x filter pattern x level x period) that holds a cell still not
    proven is left out of the release whole. An intruder then knows its cells only as whole
    numbers of at least 0 (its zeros are not published either), and the audit runs again with
    them so; proofs found before stand (leaving a table out only widens the consistent tables).
    Repeated until every hidden count from 1 to ``min_count - 1`` is proven, also those of the
    tables left out (a table left out may still be worked at through the tables that are
    published). A table ``keep_views`` marks (the default views, the national rows) is never left
    out: for a cell still not proven there, the tables that share a relation with it (or, when all
    of those are out, with those) are left out; when none is left, every shown cell sharing a
    relation with it is hidden (never a cell ``spare`` marks: Denmark for everyone); when nothing is
    left to hide, ``RuntimeError``."""
    keep = np.zeros(int(views.max()) + 1, dtype=bool) if keep_views is None else np.asarray(keep_views, dtype=bool)
    dropped = np.zeros(keep.size, dtype=bool)
    least = np.ones(c.size)
    spare = np.zeros(c.size, dtype=bool) if spare is None else np.asarray(spare, dtype=bool)
    M = abs(M).tocsr()
    for k in range(max_rounds):
        # a cell in a table always published, or in one already left out, needs the tables beside it
        held = keep[views[failing]] | dropped[views[failing]]
        tables = np.unique(views[failing[~held]])
        held = failing[held]
        if held.size:
            def free(cells):                 # the tables of ``cells`` that may still be left out
                t = np.unique(views[cells])
                return t[~keep[t] & ~dropped[t]]

            ring = _beside(M, held)
            near, more = ring, free(ring)
            for _ in range(2):               # or within 3 relations
                if more.size:
                    break
                near = _beside(M, near)
                more = free(near)
            # none left to leave out: hide the shown cells that share a relation with it (then those
            # within 3 relations), whatever their cost (more is hidden, never a cell published unproven)
            shown = np.zeros(0, dtype=np.int64)
            if more.size == 0:
                for cand in (ring, near):
                    shown = cand[~hidden[cand] & (c[cand] > 0) & ~spare[cand]]
                    if shown.size:
                        break
            if more.size == 0 and shown.size == 0 and tables.size == 0:
                raise RuntimeError(f"{failing.size:,} hidden counts from 1 to {min_count - 1} still not proven, "
                                   f"{held.size:,} of them in tables always published (the default views and the "
                                   "national rows) or already left out, with nothing beside them left to hide")
            hidden[shown] = True
            tables = np.union1d(tables, more)
        dropped[tables] = True
        out = dropped[views]
        hidden |= out
        least[out] = 0.0
        t = time.perf_counter()
        secondary(A, c, hidden, min_count, cost)
        failing = exposed_cells(A, c, hidden, min_count, G, budget, seed=1000 + k, proofs=proofs,
                                lower_proof=lower_proof, group=group, stats=stats, least=least)
        result.rounds += 1
        result.exposed_history.append(int(failing.size))
        result.timeouts = budget.timeouts
        if log:
            log(f"round {result.rounds}: {int(dropped.sum()):,} tables not published ({int(out.sum()):,} cells), "
                f"{failing.size:,} exposed ({time.perf_counter() - t:.1f} s)")
        if failing.size == 0:
            result.unpublished = out
            return result
    raise RuntimeError(f"suppression did not converge: {result.exposed_history[-1]} cells still exposed after "
                       f"{result.rounds} rounds, {int(dropped.sum()):,} tables left out")


def audit(A: sparse.csr_matrix, counts: np.ndarray, hidden: np.ndarray, min_count: int = 5,
          G: sparse.csr_matrix | None = None, budget: Budget | None = None) -> dict:
    """The output check: no shown count in 1..min_count-1, every hidden one with both proofs."""
    c = np.asarray(counts, dtype=float)
    G = _empty(c.size) if G is None else G
    budget = budget or Budget()
    shown_small = int(((c >= 1) & (c < min_count) & ~hidden).sum())
    exposed = exposed_cells(A, c, hidden, min_count, G, budget, seed=12345)
    return {"cells": int(c.size), "hidden": int(hidden.sum()), "shown_small": shown_small,
            "hidden_small": int((hidden & (c >= 1) & (c < min_count)).sum()),
            "exposed": int(exposed.size), "relations": int(A.shape[0]), "inequalities": int(G.shape[0]),
            "timeouts": budget.timeouts, "passed": shown_small == 0 and exposed.size == 0}
