"""Fast readers of result files for the evaluation: one compiled pass over all of a tracker's files.

:mod:`toolkit.results` holds the strict readers (every error names the file and the line). These
readers return exactly what the strict readers return (the same float64 values, bit for bit), in a
single numba pass over the bytes instead of a Python ``float()`` per value, and hand the file to the
strict reader whenever the fast pass does not recognise it, so that every error message (and every
unusual but valid format) stays the strict reader's:

* the fast pass accepts lines of ``,``-separated decimal numbers (``[+-]digits[.digits]``, at most
  19 significant digits, no exponent) separated by ``\\n`` (the last one may lack it);
* anything else - another separator, ``\\r``, an exponent, ``nan`` / ``inf``, an empty line, a
  wrong number of values or lines, bytes that are not UTF-8 - goes to the strict reader, which
  parses the file again and raises its named error (or returns the values when the format is
  valid but unusual, e.g. tab-separated).

Decimal to double conversion is correctly rounded, as Python's ``float()``: the quotient
``mantissa / 10**digits`` in double is exact when the mantissa is below 2**53 (both operands are
exact and IEEE division rounds once); otherwise the candidate is checked against the exact decimal
with 128-bit integer arithmetic and moved to the correctly rounded neighbour (ties to even).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from typing import Union

import numba
import numpy as np

from toolkit import results as rio

from .region import PackedRegions, pack_regions

PathLike = Union[str, "os.PathLike[str]"]

#: Exact powers of ten (10**k is exactly representable in double for k <= 22).
_POW10 = np.array([10.0**k for k in range(23)], np.float64)
#: Powers of ten as unsigned 64-bit integers (10**19 is the largest below 2**64).
_POW10_U64 = np.array([10**k for k in range(20)], np.uint64)
_MASK32 = np.uint64(0xFFFFFFFF)


# ------------------------------------------------------------------ 128-bit helpers (hi, lo words)
@numba.njit(cache=True)
def _mul_64x64(a, b):
    """Full product of two uint64 as (hi, lo) uint64 words."""
    a_lo = a & _MASK32
    a_hi = a >> np.uint64(32)
    b_lo = b & _MASK32
    b_hi = b >> np.uint64(32)
    p0 = a_lo * b_lo
    p1 = a_lo * b_hi
    p2 = a_hi * b_lo
    p3 = a_hi * b_hi
    mid = (p0 >> np.uint64(32)) + (p1 & _MASK32) + (p2 & _MASK32)
    lo = (p0 & _MASK32) | ((mid & _MASK32) << np.uint64(32))
    hi = p3 + (p1 >> np.uint64(32)) + (p2 >> np.uint64(32)) + (mid >> np.uint64(32))
    return hi, lo


@numba.njit(cache=True)
def _shl128(hi, lo, s):
    """(hi, lo) << s for 0 <= s < 128 (bits shifted out are lost)."""
    if s == 0:
        return hi, lo
    if s >= 64:
        return lo << np.uint64(s - 64), np.uint64(0)
    return (hi << np.uint64(s)) | (lo >> np.uint64(64 - s)), lo << np.uint64(s)


@numba.njit(cache=True)
def _cmp128(ahi, alo, bhi, blo):
    if ahi != bhi:
        return -1 if ahi < bhi else 1
    if alo != blo:
        return -1 if alo < blo else 1
    return 0


@numba.njit(cache=True)
def _cmp_decimal(mant, k, m2, e):
    """Sign of ``mant / 10**k - m2 * 2**(e - 1)`` (``m2`` odd or even, < 2**55), exactly.

    Compares ``mant * 2**(1 - e)`` with ``m2 * 10**k``; returns -2 when the numbers are out of the
    range this handles (the caller then gives up)."""
    rhi, rlo = _mul_64x64(np.uint64(m2), _POW10_U64[k])
    s = 1 - e
    if s < 0 or s > 63:
        return -2
    lhi, llo = _shl128(np.uint64(0), np.uint64(mant), s)
    return _cmp128(lhi, llo, rhi, rlo)


@numba.njit(cache=True)
def _decimal_to_double(mant, k):
    """Correctly rounded ``mant / 10**k`` (``mant`` < 2**64, ``k`` <= 19) and a success flag."""
    if mant < np.uint64(9007199254740992):  # 2**53: both operands exact, one rounding
        return np.float64(mant) / _POW10[k], True
    c = np.float64(mant) / _POW10[k]
    for _ in range(4):
        f, ex = math.frexp(c)  # c = f * 2**ex, 0.5 <= f < 1
        m = np.int64(f * 9007199254740992.0)  # 53-bit integer mantissa, c = m * 2**(ex - 53)
        e = ex - 53
        # lower midpoint (m - 1/2) * 2**e = (2m - 1) * 2**(e - 1); at m == 2**52 the next lower
        # double is closer ((2m - 1/2) * 2**(e - 1)): handled by comparing with 4m - 1 at e - 1
        if m == np.int64(4503599627370496):
            lo_cmp = _cmp_decimal(mant, k, 4 * m - 1, e - 1)
        else:
            lo_cmp = _cmp_decimal(mant, k, 2 * m - 1, e)
        hi_cmp = _cmp_decimal(mant, k, 2 * m + 1, e)
        if lo_cmp == -2 or hi_cmp == -2:
            return c, False
        if lo_cmp < 0 or (lo_cmp == 0 and m % 2 == 1):
            c = np.nextafter(c, -np.inf)
            continue
        if hi_cmp > 0 or (hi_cmp == 0 and m % 2 == 1):
            c = np.nextafter(c, np.inf)
            continue
        return c, True
    return c, False


# ------------------------------------------------------------------ the parser
@numba.njit(cache=True)
def _long_mantissa(buf, lo, hi):
    """The digits of ``buf[lo:hi]`` (digits and at most one ``.``) as an integer, leading zeros
    skipped; ``ok`` False when more than 19 significant digits remain (beyond uint64)."""
    mant = np.uint64(0)
    sig = 0
    for i in range(lo, hi):
        c = buf[i]
        if c == 46 or (sig == 0 and c == 48):
            continue
        sig += 1
        if sig > 19:
            return mant, False
        mant = mant * np.uint64(10) + np.uint64(c - 48)
    return mant, True


@numba.njit(cache=True)
def _parse_into(buf, lo, hi, values, counts, row0, max_rows):
    """Parse the ``,``-separated decimal lines of ``buf[lo:hi]`` into rows ``row0, row0 + 1, ...``
    of ``values`` (``counts``: the values per line); returns the number of lines, or -1 for
    anything outside the fast grammar (see the module docstring), more than ``max_rows`` lines, a
    line with more values than ``values`` has columns, or an empty line."""
    max_values = values.shape[1]
    row = 0
    col = 0
    i = lo
    while i < hi:
        if row >= max_rows:
            return -1
        # one number: [+-] digits [. digits]
        neg = False
        c = buf[i]
        if c == 45 or c == 43:  # '-' '+'
            neg = c == 45
            i += 1
        start = i
        mant = np.uint64(0)
        while i < hi:  # digits
            c = buf[i]
            if c < 48 or c > 57:
                break
            mant = mant * np.uint64(10) + np.uint64(c - 48)
            i += 1
        frac = 0
        if i < hi and buf[i] == 46:  # '.'
            i += 1
            frac_start = i
            while i < hi:
                c = buf[i]
                if c < 48 or c > 57:
                    break
                mant = mant * np.uint64(10) + np.uint64(c - 48)
                i += 1
            frac = i - frac_start
            digits = i - start - 1
        else:
            digits = i - start
        if digits > 19:  # the mantissa may have wrapped: again, without the leading zeros
            mant, ok = _long_mantissa(buf, start, i)
            if not ok or frac > 19:
                return -1
        if digits == 0 or col >= max_values:
            return -1
        v, ok = _decimal_to_double(mant, frac)
        if not ok:
            return -1
        values[row0 + row, col] = -v if neg else v
        col += 1
        if i == hi:
            break
        c = buf[i]
        if c == 44:  # ','
            i += 1
            if i == hi or buf[i] == 10:
                return -1  # trailing comma: an empty field
        elif c == 10:
            counts[row0 + row] = col
            row += 1
            col = 0
            i += 1
        else:
            return -1
    if col > 0:
        counts[row0 + row] = col
        row += 1
    return row


@numba.njit(cache=True)
def _vot_lines_valid(values, counts, lo, hi):
    """Lines ``lo:hi`` are VOT lines: a one-value line is the code 0, 1 or 2, a region has 4
    values or an even number >= 6."""
    for r in range(lo, hi):
        n = counts[r]
        if n == 1:
            code = values[r, 0]
            if code != 0.0 and code != 1.0 and code != 2.0:
                return False
        elif n != 4 and (n < 6 or n % 2 == 1):
            return False
    return True


@numba.njit(cache=True)
def _parse_files(buf, starts, present, rows, max_values, vot):
    """Parse the files concatenated in ``buf`` (file ``i`` is ``buf[starts[i]:starts[i + 1]]``,
    expected to hold ``rows[i]`` lines; ``present[i]`` False: it could not be read) in one call. Returns the
    values ``(sum(rows), max_values)`` and counts of all files one after the other, and per file
    whether it parsed with exactly ``rows[i]`` lines of exactly ``max_values`` values (``vot``
    False) or of valid VOT lines (``vot`` True)."""
    n_files = rows.shape[0]
    total = 0
    for i in range(n_files):
        total += rows[i]
    values = np.zeros((total, max_values), np.float64)
    counts = np.zeros(total, np.int64)
    ok = np.zeros(n_files, np.bool_)
    row0 = 0
    for i in range(n_files):
        if present[i]:
            got = _parse_into(buf, starts[i], starts[i + 1], values, counts, row0, rows[i])
            if got == rows[i]:
                if vot:
                    ok[i] = _vot_lines_valid(values, counts, row0, row0 + got)
                else:
                    good = True
                    for r in range(row0, row0 + got):
                        if counts[r] != max_values:
                            good = False
                            break
                    ok[i] = good
        row0 += rows[i]
    return values, counts, ok


def _read_concat(paths: Sequence[PathLike | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The bytes of all files one after the other, the offsets where each starts (and the end), and
    which files could be read (a missing one contributes no bytes)."""
    chunks = []
    present = np.ones(len(paths), np.bool_)
    for i, path in enumerate(paths):
        try:
            with open(path, "rb") as f:  # type: ignore[arg-type]
                chunks.append(f.read())
        except (OSError, TypeError):  # missing, a folder, unreadable, or no path (None)
            chunks.append(b"")
            present[i] = False
    starts = np.zeros(len(paths) + 1, np.int64)
    np.cumsum([len(c) for c in chunks], out=starts[1:])
    return np.frombuffer(b"".join(chunks), np.uint8), starts, present


def _strict_path(paths, i: int, present: np.ndarray, locate: Callable[[int], PathLike | None] | None):
    """The file the strict reader reads for file ``i`` of a batch: the path itself, or, when it
    could not be opened, where ``locate(i)`` finds it (e.g. the OTB toolkit's legacy name)."""
    if present[i] or locate is None:
        path = paths[i]
    else:
        path = locate(i)
    if path is None:
        raise FileNotFoundError(f"{paths[i]}: no such result file")
    return path


def read_boxes_concat(
    paths: Sequence[PathLike | None],
    n_frames: Sequence[int],
    locate: Callable[[int], PathLike | None] | None = None,
) -> np.ndarray:
    """:func:`read_boxes` of several files, concatenated into one ``(sum(n_frames), 4)`` array:
    all files read and parsed in one compiled call. A file outside the fast grammar, with another
    number of lines, or that cannot be opened goes to the strict reader (at ``locate(i)`` when it
    could not be opened and ``locate`` is given), in order, so the first bad file raises the strict
    reader's error."""
    buf, starts, present = _read_concat(paths)
    rows = np.asarray(n_frames, np.int64).reshape(-1)
    values, _, ok = _parse_files(buf, starts, present, rows, 4, False)
    if not ok.all():
        offsets = np.concatenate([[0], np.cumsum(rows)])
        for i in np.flatnonzero(~ok).tolist():
            strict = rio.read_boxes(_strict_path(paths, i, present, locate), int(rows[i]))
            values[offsets[i] : offsets[i + 1]] = strict
    return values


def read_vot_packed_many(paths: Sequence[PathLike], n_frames: Sequence[int]) -> list[PackedRegions]:
    """:func:`read_vot_packed` of several files, read and parsed in one compiled call (a file
    outside the fast grammar goes to the strict reader, in order, as :func:`read_boxes_concat`)."""
    buf, starts, present = _read_concat(paths)
    rows = np.asarray(n_frames, np.int64).reshape(-1)
    values, counts, ok = _parse_files(buf, starts, present, rows, 8, True)
    offsets = np.concatenate([[0], np.cumsum(rows)]).tolist()
    out = []
    for i in range(len(paths)):
        lo, hi = offsets[i], offsets[i + 1]
        if ok[i]:
            c = counts[lo:hi]
            width = int(c.max(initial=1))
            out.append(PackedRegions(np.ascontiguousarray(values[lo:hi, :width]), c))
        else:
            strict = rio.read_vot_trajectory(_strict_path(paths, i, present, None), int(rows[i]))
            out.append(pack_regions(strict))
    return out


def read_boxes(path: PathLike, n_frames: int) -> np.ndarray:
    """:func:`toolkit.results.read_boxes` (same values, same errors) of one file of ``n_frames``
    lines (:func:`read_boxes_concat`)."""
    return read_boxes_concat([path], [n_frames])


def read_vot_packed(path: PathLike, n_frames: int) -> PackedRegions:
    """:func:`toolkit.results.read_vot_trajectory` packed (:func:`.region.pack_regions`): the same
    values and the same errors (up to 8-value polygons; longer ones go through the strict reader)
    of one file of ``n_frames`` lines (:func:`read_vot_packed_many`)."""
    return read_vot_packed_many([path], [n_frames])[0]
