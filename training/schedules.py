"""Learning-rate schedules that can follow elapsed time as well as steps."""
from __future__ import annotations

import math


def onecycle_lr(progress: float, peak: float, pct_start: float = 0.2, div: float = 25.0,
                final_div: float = 1e3) -> float:
    """The one-cycle schedule (cosine warm-up to peak, cosine anneal to peak/div/final_div) as a
    function of progress in [0, 1], so it can follow wall-clock time."""
    p = min(max(progress, 0.0), 1.0)
    lo, end = peak / div, peak / div / final_div
    if p < pct_start:
        t = p / pct_start
        return lo + (peak - lo) * (1 - math.cos(math.pi * t)) / 2
    t = (p - pct_start) / (1 - pct_start)
    return end + (peak - end) * (1 + math.cos(math.pi * t)) / 2
