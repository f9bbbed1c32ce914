"""Timing helpers: medians of repeated runs, so one slow outlier does not move a figure."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_seconds(run: Callable[[int], object], repeats: int) -> float:  # not money
    samples = []
    for i in range(repeats):
        start = time.perf_counter()
        run(i)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)
