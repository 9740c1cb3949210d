"""Weighted fusion of the lexical (BM25) and dense (cosine) rankings.

Equal-weight fusion is worse than BM25 alone with the offline embedders
(docs/quality.md, "Retrieval signals"), so both methods take the dense weight ``w`` and
give the lexical side ``1 - w``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import date

Ranking = Sequence[tuple[int, float]]  # (chunk id, score), best first


def _mean_std(ranking: Ranking) -> tuple[float, float]:
    """Mean and (population) standard deviation of the scores; a spread of 0 counts as 1."""
    scores = [s for _, s in ranking]
    # Plain floats: statistics.pstdev computes exactly with fractions, too slow per query (docs/performance.md).
    mean = math.fsum(scores) / len(scores)
    return mean, math.sqrt(math.fsum((s - mean) ** 2 for s in scores) / len(scores)) or 1.0


def _zscores(ranking: Ranking) -> dict[int, float]:
    if not ranking:
        return {}
    mean, std = _mean_std(ranking)
    return {cid: (s - mean) / std for cid, s in ranking}


def zscore_fusion(lexical: Ranking, dense: Ranking, dense_weight: float) -> list[tuple[int, float]]:
    """Weighted sum of per-signal z-scores; a candidate missing from a signal gets that signal's minimum."""
    zl, zd = _zscores(lexical), _zscores(dense)
    floor_l = min(zl.values(), default=0.0)
    floor_d = min(zd.values(), default=0.0)
    fused = {
        cid: (1 - dense_weight) * zl.get(cid, floor_l) + dense_weight * zd.get(cid, floor_d)
        for cid in set(zl) | set(zd)
    }
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def rrf_fusion(lexical: Ranking, dense: Ranking, dense_weight: float, k: int = 60) -> list[tuple[int, float]]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank)."""
    fused: dict[int, float] = {}
    for weight, ranking in ((1 - dense_weight, lexical), (dense_weight, dense)):
        for rank, (cid, _) in enumerate(ranking, 1):
            fused[cid] = fused.get(cid, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda kv: (-kv[1], kv[0]))


def recency_boost(
    fused: Ranking, dates: Mapping[int, str | None], newest: str, boost: float, half_life_days: float
) -> dict[int, float]:
    """What each fused candidate gains for being recent: ``boost`` standard deviations of the fused
    scores for an article of the ``newest`` date, halved every ``half_life_days`` older; none undated.

    In units of the pool's spread, so it weighs the same against z-score and rank fusion.
    """
    if not fused:
        return {}
    spread = _mean_std(fused)[1]
    top = date.fromisoformat(newest[:10])
    gains = {}
    for cid, _ in fused:
        day = dates.get(cid)
        if day:
            age = max(0, (top - date.fromisoformat(day[:10])).days)
            gains[cid] = boost * spread * 0.5 ** (age / half_life_days)
    return gains
