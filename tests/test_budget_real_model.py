"""A whole news article as one long chunk, a small passage budget, the bundled model: the answer still
cites the right article, and its cited span in the full text holds the fact."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

NEWS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "news" / "articles"
FILES = ["1014.txt", "0686.txt", "0001.txt", "0002.txt", "0003.txt"]
QUESTION = "Кого обрали заступником голови ради директорів промислових підприємств при міському голові Кам'янця?"


def test_an_answer_over_a_cut_news_article_cites_the_span_that_holds_it(tmp_path, model_cache, cli_env, run_cli):
    from litopys.index.reader import indexed_article
    from litopys.rag.budget import GAP

    if not NEWS.is_dir():
        pytest.skip(f"needs the shared news corpus at {NEWS}")
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    corpus.mkdir()
    for name in FILES:
        shutil.copy(NEWS / name, corpus / name)
    env = {
        **cli_env(corpus, index_dir, model_cache),
        "LITOPYS_CHUNKING__TARGET_TOKENS": "5000",  # every article is one chunk, far over the budget
        # 400, the budget that meets the news p90 target, still cuts the ~1,800-token article to a
        # few sentences. At 200 only one sentence fits, and the lexically best one (the council's
        # full name) is not the one naming its new deputy: the model then has no answer to cite.
        "LITOPYS_PROMPT__PASSAGE_TOKENS": "400",
    }
    run_cli(env, "index")
    out = json.loads(run_cli(env, "ask", QUESTION, "--json").stdout)
    assert not out["refused"] and "Борейк" in out["answer"], out
    cited = out["citations"][0]
    assert cited["article_id"] == "1014.txt", out
    article = indexed_article(index_dir, "1014.txt")
    assert article is not None
    assert len(cited["text"]) < len(article.body) / 2  # the budget cut the article
    highlighted = article.body[cited["start"] : cited["end"]]
    assert "Борейко" in highlighted
    assert all(piece in highlighted for piece in cited["text"].split(GAP))
