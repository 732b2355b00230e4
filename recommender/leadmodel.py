"""Lead scores learnt from the leads that were won or lost: a logistic model on each kind of behaviour (log of the
decayed units), on the pages and assets enough of those leads touched, and the channel's conversion. The admin's
weights stay the score until there is enough history."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from sales.leads import SIGNALS, Learned, signal

MIN_LEADS = 60  # closed leads before a model replaces the admin's weights
MIN_EACH = 10  # of them won, and lost
MIN_SUPPORT = 20  # closed leads that touched a page or asset before the model weighs it
MAX_NAMED = 40  # pages and assets weighed at most, the most touched first


def _named(rows: Sequence[tuple[Mapping[str, float], float | None]]) -> list[str]:
    """The pages and assets (``sales.leads.named``) touched by enough closed leads to say something."""
    support: Counter[str] = Counter(k for f, _ in rows for k, v in f.items() if k not in SIGNALS and v > 0)
    common = [k for k, n in support.most_common() if n >= MIN_SUPPORT][:MAX_NAMED]
    return sorted(common)


def _matrix(rows: Sequence[tuple[Mapping[str, float], float | None]], keys: Sequence[str], channel: bool) -> np.ndarray:
    columns = [[signal(k, f.get(k, 0.0)) for k in keys] for f, _ in rows]
    if channel:
        for cols, (_, rate) in zip(columns, rows, strict=True):
            r = min(max(rate if rate is not None else 0.1, 1e-3), 1 - 1e-3)
            cols.append(math.log(r / (1 - r)))
    return np.asarray(columns, dtype=float)


def _fit(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50) -> np.ndarray:
    """Newton's method for L2-regularised logistic regression (the intercept unpenalised): a handful of features,
    converged in a few steps."""
    x1 = np.hstack([np.ones((x.shape[0], 1)), x])
    beta = np.zeros(x1.shape[1])
    penalty = np.eye(x1.shape[1]) * l2
    penalty[0, 0] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(x1 @ beta, -40, 40)))
        gradient = x1.T @ (p - y) + penalty @ beta
        hessian = (x1 * (p * (1 - p))[:, None]).T @ x1 + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return beta


def learn(rows: Sequence[tuple[Mapping[str, float], float | None, bool]]) -> tuple[Learned, Learned] | None:
    """The behaviour-only model and the one with the channel, from closed leads (features at assignment, channel
    rate, won); None while there are too few, or too few of either outcome."""
    won = sum(1 for *_, w in rows if w)
    if len(rows) < MIN_LEADS or won < MIN_EACH or len(rows) - won < MIN_EACH:
        return None
    y = np.asarray([1.0 if w else 0.0 for *_, w in rows])
    pairs = [(f, r) for f, r, _ in rows]
    keys = [*SIGNALS, *_named(pairs)]
    alone = _fit(_matrix(pairs, keys, channel=False), y)
    full = _fit(_matrix(pairs, keys, channel=True), y)
    return (
        Learned(float(alone[0]), {k: float(w) for k, w in zip(keys, alone[1:], strict=True)}, 0.0, len(rows)),
        Learned(float(full[0]), {k: float(w) for k, w in zip(keys, full[1:-1], strict=True)}, float(full[-1]),
                len(rows)),
    )  # fmt: skip
