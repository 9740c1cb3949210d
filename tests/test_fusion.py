"""Weighted fusion of lexical and dense rankings."""

from litopys.rag.fusion import rrf_fusion, zscore_fusion

LEX = [(1, 12.0), (2, 9.0), (3, 3.0)]
DENSE = [(3, 0.9), (4, 0.8), (1, 0.1)]


def ids(ranking):
    return [cid for cid, _ in ranking]


def test_zero_dense_weight_keeps_the_lexical_order():
    assert ids(zscore_fusion(LEX, DENSE, 0.0))[:3] == [1, 2, 3]
    assert ids(rrf_fusion(LEX, DENSE, 0.0))[:3] == [1, 2, 3]


def test_full_dense_weight_keeps_the_dense_order():
    assert ids(zscore_fusion(LEX, DENSE, 1.0))[:2] == [3, 4]
    assert ids(rrf_fusion(LEX, DENSE, 1.0))[:3] == [3, 4, 1]


def test_union_of_candidates_and_sorted_scores():
    fused = zscore_fusion(LEX, DENSE, 0.3)
    assert set(ids(fused)) == {1, 2, 3, 4}
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)


def test_agreement_beats_one_signal():
    # 3 is ranked by both signals; with an even weight it should win over 2 (lexical only).
    fused = ids(rrf_fusion(LEX, DENSE, 0.5))
    assert fused.index(3) < fused.index(2)


def test_empty_signals():
    assert zscore_fusion([], [], 0.3) == []
    assert ids(zscore_fusion(LEX, [], 0.3)) == [1, 2, 3]
    assert ids(rrf_fusion([], DENSE, 0.3)) == [3, 4, 1]
