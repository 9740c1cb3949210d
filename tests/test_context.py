"""A short passage is shown with the sentences before it in its article (rag/context.py)."""

from __future__ import annotations

from litopys.rag.context import with_context
from litopys.rag.retrieval import Passage

BODY = (
    "Обраний президент Дональд Трамп планує номінувати сенатора Марко Рубіо на посаду держсекретаря. "
    "Про це йдеться у заяві кампанії. "
    "Майбутній держсекретар має бути затверджений Конгресом. "
    "Інші призначення оголосять пізніше."
)


def _passage(chunk_id: int, sentence: str, article_id: str = "a.txt", body: str = BODY) -> Passage:
    start = body.index(sentence)
    return Passage(chunk_id, article_id, "Заголовок", "2024-11-13", sentence, start, start + len(sentence), 1.0)


def _bodies(**texts: str):
    asked: list[str] = []

    def body_of(article_id: str) -> str | None:
        asked.append(article_id)
        return texts.get(article_id.removesuffix(".txt"))

    return body_of, asked


def test_a_short_passage_grows_back_whole_sentences_until_it_is_long_enough():
    short = _passage(3, "Майбутній держсекретар має бути затверджений Конгресом.")
    body_of, _ = _bodies(a=BODY)
    (one,) = with_context([short], body_of, min_chars=120, to_chars=80)
    assert one.text == "Про це йдеться у заяві кампанії. Майбутній держсекретар має бути затверджений Конгресом."
    assert BODY[one.start : one.end] == one.text and one.end == short.end
    (two,) = with_context([short], body_of, min_chars=120, to_chars=150)
    assert two.text.startswith("Обраний президент Дональд Трамп") and two.start == 0  # the article's start
    assert (two.chunk_id, two.score, two.date) == (3, 1.0, "2024-11-13")


def test_long_passages_and_a_zero_setting_are_left_alone():
    short = _passage(3, "Майбутній держсекретар має бути затверджений Конгресом.")
    body_of, asked = _bodies(a=BODY)
    assert with_context([short], body_of, min_chars=0, to_chars=250) == [short]
    assert with_context([short], body_of, min_chars=len(short.text), to_chars=250) == [short]
    assert asked == []  # no article read for nothing


def test_it_does_not_grow_into_text_another_passage_of_the_prompt_shows():
    first = _passage(
        1, "Обраний президент Дональд Трамп планує номінувати сенатора Марко Рубіо на посаду держсекретаря."
    )
    short = _passage(3, "Майбутній держсекретар має бути затверджений Конгресом.")
    body_of, asked = _bodies(a=BODY)
    kept, widened = with_context([first, short], body_of, min_chars=120, to_chars=250)
    assert kept == first  # first is short too, with nothing before it
    assert widened.text.startswith("Про це йдеться") and widened.start >= first.end
    assert asked == ["a.txt"]  # read once for both
    # Chunks overlap: a passage of the article that reaches past the short one's start shows
    # what lies before it, so nothing is added.
    overlapping = _passage(2, "Про це йдеться у заяві кампанії. Майбутній держсекретар")
    _, alone = with_context([overlapping, short], body_of, min_chars=120, to_chars=250)
    assert alone == short
    # Another article's passage is no floor.
    other = _passage(1, "Обраний президент", article_id="b.txt")
    _, again = with_context([other, short], _bodies(a=BODY, b=BODY)[0], min_chars=120, to_chars=250)
    assert again.start == 0


def test_a_passage_whose_article_is_gone_or_changed_stays_as_it_was():
    short = _passage(3, "Майбутній держсекретар має бути затверджений Конгресом.")
    assert with_context([short], _bodies()[0], min_chars=120, to_chars=250) == [short]
    edited = BODY.replace("Про це", "Як відомо, про це")
    assert with_context([short], _bodies(a=edited)[0], min_chars=120, to_chars=250) == [short]


class _Words:
    """Counts words as tokens: prompt_for needs only the model's tokenizer here."""

    def count_tokens(self, text: str) -> int:
        return len(text.split())


def test_the_answer_prompt_shows_a_short_passage_with_its_sentences_before_it(make_retriever, tiny_embedder):
    from dataclasses import replace

    from litopys.core.config import LLMSettings
    from litopys.rag.answer import Answerer

    article = (
        "date 2024-11-13 Трамп назвав держсекретаря\n"
        "Обраний президент Дональд Трамп планує номінувати сенатора Марко Рубіо на посаду держсекретаря.\n\n"
        "Майбутній держсекретар має бути затверджений Конгресом."
    )
    with make_retriever({"rubio.txt": article}, tiny_embedder) as retriever:
        found = retriever.search("Хто буде держсекретарем?", top_k=1)[0]
        body = retriever.article_body("rubio.txt")
        assert body is not None and retriever.article_body("gone.txt") is None
        last = "Майбутній держсекретар має бути затверджений Конгресом."
        start = body.index(last)
        short = replace(found, article_id="rubio.txt", text=last, start=start, end=start + len(last))
        prompt = Answerer(retriever, _Words(), LLMSettings()).prompt_for("Хто буде держсекретарем?", [short])
    (shown,) = prompt.passages
    assert shown.text.startswith("Обраний президент Дональд Трамп") and shown.text.endswith(last)
    assert body[shown.start : shown.end] == shown.text
    assert "Марко Рубіо на посаду держсекретаря.\n\nМайбутній" in prompt.messages[-1]["content"]
