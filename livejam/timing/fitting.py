"""The tempo fit's arithmetic (tempo.py runs it a few times for every MIDI clock
tick, 24 a beat, on the engine thread): weighted least squares of degree 1 or 2
and order statistics, each numpy's value without numpy's per-call overhead, which
at one tick every 20 ms, with cold caches, cost more than the work."""
from __future__ import annotations

import numpy as np


def polyfit(x: np.ndarray, y: np.ndarray, degree: int, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted least squares of degree 1 or 2 by the normal equations, solved in
    closed form: what np.polyfit does, without its overhead (this runs a few times
    for every tick, 24 a beat, on the engine thread; np.vander and np.linalg.solve
    cost more than the sums). x is in ticks (a hundred at most), so the equations
    are well conditioned. Coefficients highest power first, as np.polyval wants."""
    w = np.ones(len(x)) if w is None else w
    wx = w * x
    s0, s1, s2 = w.sum(), wx.sum(), wx @ x
    t0, t1 = w @ y, wx @ y
    if degree == 1:
        det = s0 * s2 - s1 * s1
        return np.array([(s0 * t1 - s1 * t0) / det, (s2 * t0 - s1 * t1) / det])
    wxx = wx * x
    s3, s4, t2 = wxx @ x, (wxx * x) @ x, wxx @ y
    # [[s4 s3 s2] [s3 s2 s1] [s2 s1 s0]] @ [a b c] = [t2 t1 t0], by Cramer's rule
    m00, m01, m02 = s2 * s0 - s1 * s1, s3 * s0 - s1 * s2, s3 * s1 - s2 * s2
    det = s4 * m00 - s3 * m01 + s2 * m02
    a = (t2 * m00 - s3 * (t1 * s0 - s1 * t0) + s2 * (t1 * s1 - s2 * t0)) / det
    b = (s4 * (t1 * s0 - s1 * t0) - t2 * m01 + s2 * (s3 * t0 - t1 * s2)) / det
    c = (s4 * (s2 * t0 - s1 * t1) - s3 * (s3 * t0 - s1 * t2) + s2 * (s3 * t1 - s2 * t2)) / det
    return np.array([a, b, c])


def polyval(coef: np.ndarray, x: np.ndarray) -> np.ndarray:
    """np.polyval for a line or a parabola, without its overhead."""
    if len(coef) == 2:
        return coef[0] * x + coef[1]
    return (coef[0] * x + coef[1]) * x + coef[2]


def median(a: np.ndarray) -> float:
    """np.median's value by one partition (np.median's checks cost more than the work)."""
    n = len(a)
    h = n // 2
    if n % 2:
        return float(np.partition(a, h)[h])
    part = np.partition(a, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2)


def percentile(a: np.ndarray, q: float) -> float:
    """np.percentile's value (linear interpolation) by one partition."""
    pos = q / 100 * (len(a) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(a) - 1)
    part = np.partition(a, (lo, hi))
    return float(part[lo] + (part[hi] - part[lo]) * (pos - lo))
