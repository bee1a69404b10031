"""Fast readers of result files for the evaluation: one compiled pass over the file's bytes.

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
from collections.abc import Sequence
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
def _parse_rows(buf, max_values):
    """Parse ``,``-separated decimal lines; returns ``(values (L, max_values), counts (L,), ok)``.

    ``ok`` is False (and the arrays are meaningless) for anything outside the fast grammar (see the
    module docstring), a line with more than ``max_values`` values, or an empty line."""
    n = buf.shape[0]
    lines = 0
    for i in range(n):
        if buf[i] == 10:
            lines += 1
    if n > 0 and buf[n - 1] != 10:
        lines += 1
    values = np.zeros((lines, max_values), np.float64)
    counts = np.zeros(lines, np.int64)
    if n == 0:
        return values, counts, True
    row = 0
    col = 0
    i = 0
    while i < n:
        # one number: [+-] digits [. digits]
        neg = False
        c = buf[i]
        if c == 45 or c == 43:  # '-' '+'
            neg = c == 45
            i += 1
        mant = np.uint64(0)
        sig = 0  # significant digits (leading zeros excluded)
        digits = 0
        frac = 0
        seen_dot = False
        while i < n:
            c = buf[i]
            if 48 <= c <= 57:
                digits += 1
                if sig > 0 or c != 48:
                    sig += 1
                    if sig > 19:
                        return values, counts, False
                    mant = mant * np.uint64(10) + np.uint64(c - 48)
                if seen_dot:
                    frac += 1
                    if frac > 19:
                        return values, counts, False
                i += 1
            elif c == 46 and not seen_dot:  # '.'
                seen_dot = True
                i += 1
            else:
                break
        if digits == 0 or col >= max_values:
            return values, counts, False
        v, ok = _decimal_to_double(mant, frac)
        if not ok:
            return values, counts, False
        values[row, col] = -v if neg else v
        col += 1
        if i == n:
            break
        c = buf[i]
        if c == 44:  # ','
            i += 1
            if i == n or buf[i] == 10:
                return values, counts, False  # trailing comma: an empty field
        elif c == 10:
            counts[row] = col
            row += 1
            col = 0
            i += 1
        else:
            return values, counts, False
    if col > 0:
        counts[row] = col
        row += 1
    if row != lines:
        return values, counts, False
    return values, counts, True


def _read_bytes(path: PathLike) -> np.ndarray:
    with open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8)


def read_boxes(path: PathLike, n_frames: int | None = None) -> np.ndarray:
    """:func:`toolkit.results.read_boxes` (same values, same errors), parsed in one compiled pass."""
    values, counts, ok = _parse_rows(_read_bytes(path), 4)
    if ok and (n_frames is None or len(counts) == n_frames) and np.all(counts == 4):
        return values
    return rio.read_boxes(path, n_frames)


def _vot_rows_valid(values: np.ndarray, counts: np.ndarray) -> bool:
    one = counts == 1
    if one.any():
        codes = values[one, 0]
        if not np.all((codes == 0) | (codes == 1) | (codes == 2)):
            return False
    region = counts[~one]
    return bool(np.all((region == 4) | ((region >= 6) & (region % 2 == 0))))


def read_vot_packed(path: PathLike, n_frames: int | None = None) -> PackedRegions:
    """:func:`toolkit.results.read_vot_trajectory` packed (:func:`.region.pack_regions`): the same
    values and the same errors, parsed in one compiled pass (up to 8-value polygons; longer ones
    go through the strict reader)."""
    values, counts, ok = _parse_rows(_read_bytes(path), 8)
    if ok and (n_frames is None or len(counts) == n_frames) and _vot_rows_valid(values, counts):
        width = int(counts.max(initial=1))
        return PackedRegions(np.ascontiguousarray(values[:, :width]), counts)
    return pack_regions(rio.read_vot_trajectory(path, n_frames))


def read_boxes_many(paths: Sequence[PathLike], n_frames: Sequence[int]) -> list[np.ndarray]:
    """:func:`read_boxes` of several files."""
    return [read_boxes(p, n) for p, n in zip(paths, n_frames)]


def read_vot_packed_many(paths: Sequence[PathLike], n_frames: Sequence[int]) -> list[PackedRegions]:
    """:func:`read_vot_packed` of several files."""
    return [read_vot_packed(p, n) for p, n in zip(paths, n_frames)]
