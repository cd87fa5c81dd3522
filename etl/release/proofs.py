"""The proof behind every protected table: for each hidden count from 1 to ``min_count - 1``, a
table consistent with everything published in which the count is ``min_count`` or more (and, on
request, one in which it is 1).

The intruder knows the shown cells, the equalities ``A @ n == 0`` (every ``parent = sum of
children``), the subset inequalities ``G @ n <= 0`` and that a hidden cell is a whole number of at
least 1 (zeros are always shown). Linear programming (HiGHS, sparse) over those relations finds the
tables. Proofs are sought in growing neighbourhoods, every hidden cell outside one fixed at its
true value (the true values satisfy every relation, so a table found there is a table of the whole
system): each group of cells alone (e.g. each count), then the cells within 1 and 3 relations,
then whole components. Within a neighbourhood, batches maximise a randomly weighted sum of the
pending cells, each capped at ``min_count``; the true table satisfies the caps, so every LP is
feasible. A proof is an LP table; it may be fractional (it defeats an intruder using linear
programming; one using integer programming could in principle narrow the cell further, which the
attacker suite in the tests checks).

A cell left without its proof, also by a time limit (``Budget``), is reported as *exposed*: the
protection then hides more, never publishes a cell unproven. Proofs carry from round to round:
hiding more only widens the consistent tables, so a proof stays one.

Used by the per-count protection (``etl.release.suppression``), the joint protection of all
counts (``etl.release.joint``) and the output-check audit.

Reference: Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, ch. 4 (audit by
linear programming, protection levels); Huangfu Q, Hall JAJ (2018). Parallelizing the dual revised
simplex method. Math Prog Comp 10.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, sparse
from scipy.sparse import csgraph

TOL = 1e-6
IPM_FROM = 20_000          # variables from which the LP is solved by interior point
DEBUG = False
# a batch proving fewer than this share of its pending cells is a miss; two misses in a row end
# a stage (the cells left go to the next, wider stage, and in the end to the repair). An LP of
# LARGE_FROM cells or more takes seconds, so there a batch must prove more to be worth another
# (scale 0.01, imaging: 0.02 throughout took over 600 s; 0.10 on the large LPs 217 s). From 10,000
# cells instead: scale 0.01 first 162 s instead of about 380 s, but scale 0.05 imaging 2.6 % more
# cells hidden (15,318 against 14,935): the larger threshold keeps what is published
MISS_SHARE = 0.02
MISS_SHARE_LARGE = 0.10
LARGE_FROM = 20_000

@dataclass
class Budget:
    """Time limits of the LP audit: per solve, and for all rounds together (seconds)."""

    per_solve: float = 20.0
    total: float = 600.0
    timeouts: int = 0            # solves stopped by their limit (their cells counted as exposed)
    started: float = field(default_factory=time.perf_counter)

    def left(self) -> float:
        return self.total - (time.perf_counter() - self.started)

    def limit(self) -> float:
        return max(0.5, min(self.per_solve, self.left()))



def _empty(n: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((0, n))


# ------------------------------------------------------------------------------------ the audit

@dataclass
class _Sys:
    H: np.ndarray                # positions of the hidden cells (the variables)
    A: sparse.csr_matrix         # equalities over H ...
    b: np.ndarray                # ... = b
    G: sparse.csr_matrix         # inequalities over H ...
    h: np.ndarray                # ... <= h
    M: sparse.csr_matrix         # |relations| x variables (equalities, then inequalities)
    MT: sparse.csr_matrix
    label: np.ndarray            # component of each variable


def _restrict(M: sparse.csr_matrix, c: np.ndarray, hidden: np.ndarray, H: np.ndarray):
    MH = M[:, H].tocsr()
    rows = np.flatnonzero(MH.getnnz(axis=1) > 0)
    shown = np.flatnonzero(~hidden)
    rhs = -(M[rows][:, shown] @ c[shown]) if rows.size else np.zeros(0)
    return MH[rows], np.asarray(rhs, dtype=float)


def _system(A, G, c, hidden) -> _Sys:
    H = np.flatnonzero(hidden)
    AH, b = _restrict(A, c, hidden, H)
    GH, h = _restrict(G, c, hidden, H)
    # components of the bipartite graph relations x hidden cells
    M = sparse.vstack([abs(AH), abs(GH)]).tocsr()
    nr, nv = M.shape
    graph = sparse.bmat([[None, M], [M.T, None]], format="csr") if nr else sparse.csr_matrix((nv, nv))
    _, lab = csgraph.connected_components(graph, directed=False)
    label = lab[nr:] if nr else lab
    return _Sys(H, AH, b, GH, h, M, M.T.tocsr(), label)


def _solve(obj, A, b, G, h, lower, upper, budget: Budget, integer: bool = False):
    """(status, x): status 'ok', 'infeasible' or 'timeout'."""
    if budget.left() <= 0:
        budget.timeouts += 1
        return "timeout", None
    limit = budget.limit()
    if integer:
        cons = []
        if A.shape[0]:
            cons.append(optimize.LinearConstraint(A, b, b))
        if G.shape[0]:
            cons.append(optimize.LinearConstraint(G, -np.inf, h))
        res = optimize.milp(obj, constraints=cons, integrality=np.ones(obj.size),
                            bounds=optimize.Bounds(lower, upper), options={"time_limit": limit})
    else:
        # the dual simplex is quickest on the small neighbourhoods; on tens of thousands of
        # linked cells the interior-point method (with crossover) is several times faster
        # (scale 0.05: 48,000 cells, 148,000 relations: 10 s against more than 120 s)
        method = "highs-ipm" if obj.size > IPM_FROM else "highs"
        res = optimize.linprog(obj, A_eq=A if A.shape[0] else None, b_eq=b if A.shape[0] else None,
                               A_ub=G if G.shape[0] else None, b_ub=h if G.shape[0] else None,
                               bounds=np.column_stack([lower, upper]), method=method,
                               options={"time_limit": limit})
    if res.status == 0 and res.x is not None:
        return "ok", res.x
    if res.status == 1:
        budget.timeouts += 1
        return "timeout", None
    return "infeasible", None


def _integral(x: np.ndarray) -> bool:
    return bool(np.all(np.abs(x - np.round(x)) < TOL))


def _neighbourhood(s: _Sys, start: np.ndarray, hops: int) -> np.ndarray:
    """Variables reached from ``start`` (bool) in ``hops`` steps through shared relations."""
    reach = start.copy()
    for _ in range(hops):
        rows = (s.M @ reach.astype(float)) > 0
        reach |= (s.MT @ rows.astype(float)) > 0
    return reach


def _local(s: _Sys, inside: np.ndarray, val: np.ndarray):
    """The system over the variables ``inside`` (bool) with every other hidden cell fixed at its
    true value: each of its solutions extends to a table consistent with everything published
    (the true values satisfy every relation), so a proof found here is a proof."""
    v = np.flatnonzero(inside)
    out = np.flatnonzero(~inside)
    parts = []
    for M, rhs in ((s.A, s.b), (s.G, s.h)):
        Mv = M[:, v].tocsr()
        rows = np.flatnonzero(Mv.getnnz(axis=1) > 0)
        parts.append((Mv[rows], rhs[rows] - (M[rows][:, out] @ val[out] if out.size else 0.0)))
    (A, b), (G, h) = parts
    return v, A, b, G, h


def _stages(s: _Sys, todo: np.ndarray, group: np.ndarray | None):
    """The neighbourhoods proofs are sought in, cheapest first: each count's own hidden cells (the
    other counts' fixed at their true values), then the hidden cells within 1 and 3 relations of
    the pending ones, then their whole components."""
    if group is not None:
        for g in np.unique(group[todo]):
            yield f"count {g}", lambda todo, g=g: group == g
    yield "1 relation", lambda todo: _neighbourhood(s, todo, 1)
    yield "3 relations", lambda todo: _neighbourhood(s, todo, 3)
    yield "components", lambda todo: np.isin(s.label, np.unique(s.label[todo]))


def _prove(s: _Sys, pending: np.ndarray, direction: int, min_count: int, lower: np.ndarray,
           val: np.ndarray, budget: Budget, rng, group: np.ndarray | None = None,
           stats: dict | None = None) -> np.ndarray:
    """Cells of ``pending`` (bool over variables) proven by a consistent table with the cell at
    ``min_count`` or more (``direction`` +1) or at its least value, 1 (-1). Returns the proven.

    Proofs are sought stage by stage (``_stages``): in each neighbourhood every hidden cell outside
    it is fixed at its true value, so a table found there extends to one consistent with
    everything published. Within a stage, batches with random weights (they reach different
    corners of the consistent tables) run until two in a row prove almost nothing. A cell left
    without a proof is reported (and more is hidden around it). ``stats`` counts the cells proven
    by an integral table and by a fractional one (an LP table: it defeats an LP intruder; an
    integer intruder could in principle be tighter, which the attacker suite checks)."""
    proven = np.zeros(pending.size, dtype=bool)
    todo = pending.copy()
    target_up = float(min_count)
    for name, inside_of in _stages(s, todo, group):
        misses = 0
        while todo.any() and misses < 2:
            inside = inside_of(todo)
            if not (inside & todo).any():
                break
            v, A, b, G, h = _local(s, inside, val)
            t = todo[v]
            w = np.where(t, rng.uniform(0.5, 1.5, v.size), 0.0)
            up = np.full(v.size, np.inf)
            if direction > 0:
                up[t] = target_up
            t0 = time.perf_counter()
            status, x = _solve(-w * direction, A, b, G, h, lower[v], up, budget)
            if DEBUG:
                print(f"    {name}: {v.size} vars, {A.shape[0]}+{G.shape[0]} rows, {status}, "
                      f"{time.perf_counter() - t0:.1f} s, {int(t.sum())} pending", flush=True)
            if status != "ok":
                break
            hit = t & ((x >= target_up - TOL) if direction > 0 else (x <= lower[v] + TOL))
            # a batch that proves few of the pending cells counts as a miss: the rest are
            # likely exposed, and the repair is cheaper than more batches
            share = MISS_SHARE_LARGE if v.size >= LARGE_FROM else MISS_SHARE
            if hit.sum() < max(1, share * t.sum()):
                misses += 1
            else:
                misses = 0
            if stats is not None:
                stats["integral" if _integral(x) else "fractional"] += int(hit.sum())
            proven[v[hit]] = True
            todo[v[hit]] = False
        if not todo.any():
            break
    return proven


def exposed_cells(A, c, hidden, min_count, G=None, budget: Budget | None = None,
                  seed: int = 0, proofs: dict | None = None, lower_proof: bool = True,
                  group: np.ndarray | None = None, stats: dict | None = None,
                  least: np.ndarray | None = None) -> np.ndarray:
    """Positions of hidden cells from 1 to ``min_count - 1`` without both proofs of the protection
    interval (a consistent table with the cell at ``min_count`` or more, and one with it at 1). A
    cell in no relation is unbounded and safe. Cells left unproven by a time limit count as
    exposed. ``proofs`` (``{"up": bool per cell, "down": ...}``, updated) carries proofs from
    round to round: hiding more cells only widens the consistent tables, so a proof stays one.
    ``group`` (per cell, e.g. its count) adds a first, cheap stage of proofs group by group;
    ``stats`` (a dict, updated) counts proofs by integral and by fractional tables. ``least`` (per
    cell, optional) is the least value an intruder knows a hidden cell to have: 1 (zeros are
    published), 0 for a cell of a table that is not published at all."""
    c = np.asarray(c, dtype=float)
    G = _empty(c.size) if G is None else G
    budget = budget or Budget()
    s = _system(A, G, c, hidden)
    if s.H.size == 0:
        return np.zeros(0, dtype=np.int64)
    val = c[s.H]
    lower = np.ones(s.H.size) if least is None else np.asarray(least, dtype=float)[s.H]
    in_rel = np.zeros(s.H.size, dtype=bool)
    for M in (s.A, s.G):
        if M.shape[0]:
            in_rel[np.unique(M.indices)] = True
    small = in_rel & (val >= 1) & (val < min_count)
    rng = np.random.default_rng(seed)
    if proofs is None:
        proofs = {"up": np.zeros(c.size, dtype=bool), "down": np.zeros(c.size, dtype=bool)}
    gH = None if group is None else np.asarray(group)[s.H]
    stats = {"integral": 0, "fractional": 0} if stats is None else stats
    stats.setdefault("integral", 0)
    stats.setdefault("fractional", 0)
    up = proofs["up"][s.H] | _prove(s, small & ~proofs["up"][s.H], +1, min_count, lower, val, budget, rng, gH, stats)
    if lower_proof:
        down = proofs["down"][s.H] | _prove(s, small & up & ~proofs["down"][s.H], -1, min_count, lower, val, budget,
                                            rng, gH, stats)
    else:
        down = np.ones(s.H.size, dtype=bool)
    proofs["up"][s.H[up]] = True
    proofs["down"][s.H[down]] = True
    return np.sort(s.H[small & ~(up & down)]).astype(np.int64)
