"""The format-throughput bench: the same articles as text files, web pages and a JSONL export."""

from __future__ import annotations

from litopys.bench.formats import FORMATS, format_line, format_throughput
from litopys.core.config import load_settings

BODY = (
    "Міська рада {n}-го округу затвердила план ремонту доріг на наступний рік.\n"
    "Роботи охоплять дванадцять вулиць і два мости через річку, повідомили в управлінні."
)


def test_every_format_yields_the_same_articles_and_figures(tmp_path, tiny_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(6):
        text = f"date 2024-11-{n + 10} Ремонт доріг у окрузі {n}\n{BODY.format(n=n)}\n"
        (corpus / f"{n}.txt").write_text(text, encoding="utf-8")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    results = format_throughput(settings, tiny_embedder, corpus, limit=5)
    assert list(results) == list(FORMATS)
    for figures in results.values():
        assert figures["articles"] == 5
        assert figures["chunks"] == results["txt"]["chunks"]  # the page furniture left no extra text
        assert 0 < figures["extract_share_of_build"] < 1
        assert figures["extract_articles_per_s"] > figures["build_articles_per_s"] > 0
    assert "articles/s" in format_line("html", results["html"])
