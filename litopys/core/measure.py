"""The one percentile convention and the one timing loop of every measurement (bench, load, eval)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile of ``values``, ``q`` on 0-100; NaN when there are no values.

    Linear interpolation between the two nearest ranks (numpy's default), so p50 is the
    median and a percentile of few values is not pinned to one of them.
    """
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else math.nan


def times_ms(fn: Callable[[T], object], items: Sequence[T], warmup: int = 0) -> list[float]:
    """Milliseconds of ``fn(item)`` for each item, after ``warmup`` untimed calls on the first items.

    The warm-up fills caches (SQLite pages, FAISS, torch) so the first timed call is not an outlier.
    """
    for item in items[:warmup]:
        fn(item)
    out = []
    for item in items:
        started = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - started) * 1000)
    return out
