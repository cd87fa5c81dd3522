"""Primary and secondary cell suppression of count tables, with an audit.

Methods
-------
``suppress_with_totals``, ``suppress``
    Threshold rule (1 .. min_count-1 hidden, zeros shown), secondary suppression per published
    total (at least two hidden cells with enough hidden mass), and an audit by linear
    programming of what an intruder can derive (see ``lp_audit``), repaired until nothing is
    exposed; derivable hidden small totals get a partner.
``suppression_audit``
    The range an intruder can derive for each hidden cell (two LPs per cell).

Reference: Hundepool A, Domingo-Ferrer J, Franconi L, Giessing S, Schulte Nordholt E,
Spicer K, de Wolf PP (2012). Statistical Disclosure Control. Wiley, chapter 4 (frequency
tables: threshold rule, secondary suppression, audit by linear programming).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from .lp_audit import _cell_ranges, _exposed_cells, _exposed_totals, _integer_range, _range_fails

__all__ = ["suppress", "suppress_with_totals", "suppression_audit"]


def _build_blocks(table: pd.DataFrame, groups: Sequence[Sequence[str]]):
    """Incidence matrix of published totals.

    Returns (B, group_of_block, offsets, codes): B is a CSR matrix (blocks x rows) with 1 where a
    row belongs to a block; a block is the set of rows sharing the values of one group's columns
    (the empty group is one block of all rows). ``codes[gi]`` is the block number of each row
    within group gi, ``offsets[gi]`` the index of group gi's first block in B.
    """
    n_rows = len(table)
    rows_idx, cols_idx, group_of_block, offsets, codes = [], [], [], [], []
    start = 0
    for gi, cols in enumerate(groups):
        cols = list(cols)
        if cols:
            code = table.groupby(cols, sort=False, dropna=False, observed=True).ngroup().to_numpy()
            nb = int(code.max()) + 1 if n_rows else 0
        else:
            code = np.zeros(n_rows, dtype=np.int64)
            nb = 1 if n_rows else 0
        code = code.astype(np.int64)
        offsets.append(start)
        codes.append(code)
        rows_idx.append(code + start)
        cols_idx.append(np.arange(n_rows))
        group_of_block.extend([gi] * nb)
        start += nb
    if rows_idx:
        r = np.concatenate(rows_idx)
        c = np.concatenate(cols_idx)
    else:
        r = c = np.zeros(0, dtype=np.int64)
    B = sparse.csr_matrix((np.ones(r.size), (r, c)), shape=(start, n_rows))
    return B, np.asarray(group_of_block, dtype=np.int64), offsets, codes


def _counts(table: pd.DataFrame, count: str) -> np.ndarray:
    c = table[count].to_numpy(dtype=float)
    if np.any(~np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        raise ValueError(f"column {count!r} must hold non-negative whole numbers")
    return c


def _secondary_pass(c, hidden, lower_bound, B, published, offsets, codes, min_count, lb):
    """Apply the block rules of ``suppress_with_totals`` until nothing changes. In place."""
    changed_any = False
    n_groups = len(codes)
    while True:
        changed = False
        for gi in range(n_groups):
            code = codes[gi]
            off = offsets[gi]
            nb = (offsets[gi + 1] if gi + 1 < n_groups else B.shape[0]) - off
            if nb == 0:
                continue
            h = hidden.astype(float)
            k = np.bincount(code, weights=h, minlength=nb)
            s = np.bincount(code, weights=c * h, minlength=nb)
            lsum = np.bincount(code, weights=lower_bound * h, minlength=nb)
            slack = s - np.maximum(lsum - lb, 0.0)
            need = published[off:off + nb] & (k > 0) & ((k < 2) | (slack < min_count))
            if not need.any():
                continue
            cand = (~hidden) & (c > 0)
            n_cand = np.bincount(code, weights=cand.astype(float), minlength=nb)
            # blocks that can be helped: hide their smallest unhidden nonzero cell
            eligible = np.flatnonzero(cand & need[code])
            if eligible.size:
                order = np.lexsort((eligible, c[eligible], code[eligible]))
                srt = eligible[order]
                _, first = np.unique(code[srt], return_index=True)
                hidden[srt[first]] = True
                changed = True
            # blocks that cannot: hide every cell, drop the published total
            hopeless = need & (n_cand == 0)
            if hopeless.any():
                members = hopeless[code]
                hidden[members] = True
                lower_bound[members] = 0.0
                published[off + np.flatnonzero(hopeless)] = False
                changed = True
        if not changed:
            return changed_any
        changed_any = True


def _repair(c, hidden, lower_bound, B, published, failing):
    """Hide one more cell next to each exposed cell (or drop totals when none is left)."""
    Bc = B.tocsc()
    cand = (~hidden) & (c > 0)
    touched = np.zeros(B.shape[0], dtype=bool)
    for j in failing:
        blocks = Bc.indices[Bc.indptr[j]:Bc.indptr[j + 1]]
        blocks = blocks[published[blocks]]
        if blocks.size == 0 or touched[blocks].any():
            continue
        touched[blocks] = True
        members = np.unique(B[blocks].indices)
        options = members[cand[members]]
        if options.size:
            best = options[np.lexsort((options, c[options]))[0]]
            hidden[best] = True
            cand[best] = False
        else:
            rows = np.unique(B[blocks].indices)
            hidden[rows] = True
            lower_bound[rows] = 0.0
            published[blocks] = False


def _repair_totals(c, hidden, B, published, group_of_block, failing):
    """Give each derivable hidden total a partner: hide a sibling total (same group, preferably
    under a common published parent total and with hidden cells of its own); if no sibling has
    hidden cells, hide the smallest nonzero shown cell of the siblings; if there are no
    siblings, hide the smallest published total overlapping the block."""
    totals = B @ c
    n_hidden = B @ hidden.astype(float)
    overlap = (B @ B.T).tocsr()
    size = np.asarray(B.sum(axis=1)).ravel()
    for blk in failing:
        ov = overlap[blk].toarray().ravel()
        parents = np.flatnonzero(published & (ov == size[blk]))  # published blocks containing blk
        sibs = np.flatnonzero((group_of_block == group_of_block[blk]) & published)
        sibs = sibs[sibs != blk]
        if parents.size and sibs.size:
            inside = (overlap[parents][:, sibs].toarray() == size[sibs]).any(axis=0)
            if inside.any():
                sibs = sibs[inside]
        with_hidden = sibs[n_hidden[sibs] > 0]
        if with_hidden.size:
            pick = with_hidden[np.lexsort((with_hidden, totals[with_hidden]))[0]]
            published[pick] = False
            return
        if sibs.size:
            members = np.unique(B[sibs].indices)
            options = members[(~hidden[members]) & (c[members] > 0)]
            if options.size:
                hidden[options[np.lexsort((options, c[options]))[0]]] = True
                return
        others = np.flatnonzero(published & (ov > 0))
        if others.size:
            pick = others[np.lexsort((others, totals[others]))[0]]
            published[pick] = False
            return


def suppress_with_totals(
    table: pd.DataFrame,
    min_count: int = 5,
    count: str = "count",
    groups: Sequence[Sequence[str]] = (),
    *,
    assume_hidden_nonzero: bool = True,
    audit: bool = True,
) -> tuple[pd.Series, dict[tuple, pd.DataFrame]]:
    """Primary and secondary cell suppression of a count table.

    ``table`` has one row per cell and a column ``count`` of non-negative whole numbers.
    ``groups`` lists the published totals: each entry is a list of column names, and the rows
    sharing the values of those columns add up to a published total (a "block"); ``[]`` means
    the grand total is published. Example for area x stratum with margins and grand total:
    ``groups=[["area"], ["stratum"], []]``.

    Rules, applied until nothing changes:

    1. Primary: a cell with 1 <= count < ``min_count`` is hidden. A zero is shown (a true zero
       discloses nothing about a person under this policy) and never chosen as a secondary.
    2. Secondary: a published block containing a hidden cell needs at least 2 hidden cells and
       enough hidden mass: sum(hidden) - (k - 1) >= min_count with k hidden cells when
       ``assume_hidden_nonzero`` (default), or sum(hidden) >= min_count otherwise. If not, its
       smallest not-yet-hidden nonzero cell is hidden (ties: first row). Groups are processed
       in the order given.
    3. Unprotectable: a block that needs protection but has no nonzero cell left (e.g. only one
       nonzero cell, or a total between 1 and min_count - 1) has all its cells hidden, zeros
       included, and its total is reported in ``hidden_group_totals``: the caller must hide
       that total. Totals between 1 and min_count - 1 are always reported this way.
    4. Audit (``audit=True``): for each hidden cell the range an intruder can derive from the
       shown cells, the published totals and non-negativity is computed by linear programming
       (``suppression_audit``). A cell whose range is a single value, or lies inside
       [1, min_count - 1], gets one more neighbour hidden (the smallest nonzero shown cell of a
       block containing it; if none is left its blocks become unprotectable as in 3), then rules
       2-4 run again.
    5. Hidden small totals (``audit=True``): a hidden total between 1 and min_count - 1 that can
       still be derived (e.g. the national total minus all other municipalities' totals) gets a
       partner: another total of the same group is hidden (preferably one under the same
       published parent total that has hidden cells; otherwise a cell of a sibling is hidden
       first), and rules 2-5 run again.

    ``assume_hidden_nonzero``: zeros are always shown, so an intruder who knows the policy knows
    that a hidden cell is at least 1 (unless its block was hidden whole under rule 3). With
    True (default) the secondary rule and the audit use that lower bound, so two hidden cells
    of 2 and 3 in a block are not enough (each would be known to lie in 1..4). False gives the
    plainer rule "sum of hidden >= min_count" with a lower bound of 0.

    Guarantee (``audit=True``): with the reported totals hidden, no hidden cell can be pinned to
    one whole number, nor narrowed to whole numbers inside [1, min_count - 1], and no hidden
    total between 1 and min_count - 1 can be derived, from this table and its published totals
    (LP bounds rounded inwards; exact integer programming could occasionally be tighter). Not
    covered: other tables published beside this one; the caller must make them consistent.

    Returns ``(cell_mask, hidden_group_totals)``: a boolean Series aligned with ``table``
    (True = hide) and a dict mapping each group (a tuple of its columns) to a DataFrame of the
    key values of the blocks whose total must be hidden plus a ``total`` column (groups with
    none are absent).

    Reference: Hundepool A et al. (2012). Statistical Disclosure Control. Wiley, chapter 4
    (frequency tables: threshold rule, secondary suppression, audit by linear programming).
    """
    groups = [list(g) for g in groups]
    c = _counts(table, count)
    n_rows = c.size
    hidden = (c >= 1) & (c < min_count)
    lb = 1.0 if assume_hidden_nonzero else 0.0
    lower_bound = np.full(n_rows, lb)
    B, group_of_block, offsets, codes = _build_blocks(table, groups)
    published = np.ones(B.shape[0], dtype=bool)

    while True:
        _secondary_pass(c, hidden, lower_bound, B, published, offsets, codes, min_count, lb)
        if not audit:
            break
        failing = _exposed_cells(c, hidden, lower_bound, B, published, min_count)
        if failing.size:
            _repair(c, hidden, lower_bound, B, published, failing)
            continue
        bad_totals = _exposed_totals(c, hidden, lower_bound, B, published, min_count)
        if bad_totals.size == 0:
            break
        before = (hidden.sum(), published.sum())
        _repair_totals(c, hidden, B, published, group_of_block, bad_totals)
        if (hidden.sum(), published.sum()) == before:
            break  # nothing left to hide (cannot happen with consistent totals)

    mask = pd.Series(hidden, index=table.index, name="suppressed")
    totals: dict[tuple, pd.DataFrame] = {}
    block_total = B @ c
    for gi, cols in enumerate(groups):
        off = offsets[gi]
        nb = int((group_of_block == gi).sum())
        marked = np.flatnonzero(~published[off:off + nb])
        if marked.size == 0:
            continue
        _, first_row = np.unique(codes[gi], return_index=True)  # first row of each block
        keys = table.iloc[first_row[marked]][cols].reset_index(drop=True)
        keys["total"] = block_total[off + marked]
        totals[tuple(cols)] = keys
    return mask, totals


def suppress(
    table: pd.DataFrame,
    min_count: int = 5,
    count: str = "count",
    groups: Sequence[Sequence[str]] = (),
    *,
    assume_hidden_nonzero: bool = True,
    audit: bool = True,
) -> pd.Series:
    """Cell mask of ``suppress_with_totals`` (True = hide); see there for the rules.

    The totals that must also be hidden are dropped here: use ``suppress_with_totals`` when the
    table is published with its totals.
    """
    mask, _ = suppress_with_totals(
        table, min_count, count, groups, assume_hidden_nonzero=assume_hidden_nonzero, audit=audit
    )
    return mask


def suppression_audit(
    table: pd.DataFrame,
    hidden: Any,
    min_count: int = 5,
    count: str = "count",
    groups: Sequence[Sequence[str]] = (),
    hidden_totals: Mapping[tuple, pd.DataFrame] | None = None,
    *,
    assume_hidden_nonzero: bool = True,
) -> pd.DataFrame:
    """What an intruder can derive about each hidden cell of a suppressed table.

    The intruder knows the shown cells, the published totals (all blocks of ``groups`` except
    those listed in ``hidden_totals``, in the format returned by ``suppress_with_totals``) and
    that counts are >= 0 (>= 1 for hidden cells outside hidden-total blocks when
    ``assume_hidden_nonzero``). For each hidden cell the minimum and maximum value consistent
    with that knowledge are found by linear programming.

    Returns a DataFrame indexed like the hidden rows of ``table`` with columns ``value``,
    ``lower``, ``upper`` (inf when unbounded), ``pinned`` (range is one value) and ``exposed``
    (pinned, or range inside [1, min_count - 1]).
    """
    groups = [list(g) for g in groups]
    c = _counts(table, count)
    hidden = np.asarray(hidden, dtype=bool).copy()
    B, group_of_block, offsets, codes = _build_blocks(table, groups)
    published = np.ones(B.shape[0], dtype=bool)
    if hidden_totals:
        for gi, cols in enumerate(groups):
            frame = hidden_totals.get(tuple(cols))
            if frame is None or len(frame) == 0:
                continue
            if not cols:
                published[offsets[gi]] = False
                continue
            keyed = table[cols].assign(_block=codes[gi])
            hit = keyed.merge(frame[cols].drop_duplicates(), on=cols, how="inner")["_block"]
            published[offsets[gi] + np.unique(hit.to_numpy())] = False
    lower_bound = np.full(c.size, 1.0 if assume_hidden_nonzero else 0.0)
    in_dropped = np.asarray(B[np.flatnonzero(~published)].sum(axis=0)).ravel() > 0
    lower_bound[in_dropped | (c == 0)] = 0.0
    H, lo, hi = _cell_ranges(c, hidden, lower_bound, B, published)
    lo_i, hi_i = _integer_range(lo, hi)
    pinned = hi_i <= lo_i
    return pd.DataFrame(
        {
            "value": c[H],
            "lower": lo,
            "upper": hi,
            "pinned": pinned,
            "exposed": _range_fails(lo, hi, min_count),
        },
        index=table.index[H],
    )
