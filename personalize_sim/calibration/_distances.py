"""Distances between a real and a synthetic sample (numpy only).

>>> ks_distance(np.array([1, 2, 3, 4]), np.array([1, 2, 3, 4]))
0.0
>>> ks_distance(np.array([0.0, 0.0]), np.array([1.0, 1.0]))
1.0
>>> total_variation(np.array([1, 1]), np.array([1, 3]))
0.25
"""

from __future__ import annotations

import numpy as np

__all__ = ["js_divergence", "ks_distance", "total_variation"]


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov–Smirnov statistic: the largest gap between the two ECDFs
    (exact with ties: both are evaluated at every observed value)."""
    a, b = np.sort(np.asarray(a, dtype=np.float64)), np.sort(np.asarray(b, dtype=np.float64))
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    x = np.concatenate((a, b))
    fa = np.searchsorted(a, x, side="right") / len(a)
    fb = np.searchsorted(b, x, side="right") / len(b)
    return float(np.abs(fa - fb).max())


def total_variation(p: np.ndarray, q: np.ndarray) -> float:
    """Half the L1 distance between two histograms, each normalised to sum 1."""
    p, q = _normalised(p, q)
    return float(0.5 * np.abs(p - q).sum())


def js_divergence(p: np.ndarray, q: np.ndarray) -> float:
    """Jensen–Shannon divergence (base 2: 0 = same, 1 = disjoint) between two histograms."""
    p, q = _normalised(p, q)
    m = 0.5 * (p + q)
    return float(0.5 * _kl(p, m) + 0.5 * _kl(q, m))


def _kl(p: np.ndarray, q: np.ndarray) -> float:
    on = p > 0
    return float(np.sum(p[on] * np.log2(p[on] / q[on])))


def _normalised(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    n = max(len(p), len(q))
    p, q = np.pad(p, (0, n - len(p))), np.pad(q, (0, n - len(q)))
    return p / max(p.sum(), 1e-300), q / max(q.sum(), 1e-300)
