"""Wall-clock timing shared by the benchmarks (seconds, ``time.perf_counter``).

The machine running a benchmark may be shared, so every figure is the median of several calls:
one slow call from a busy neighbour does not move it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["median_time"]


def median_time(fn: Callable[[], object], repeats: int, warm_up: bool = False) -> float:
    """Median wall time of ``repeats`` calls of ``fn``, seconds; ``warm_up`` makes one untimed call first."""
    if warm_up:
        fn()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(statistics.median(times))
