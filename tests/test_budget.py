"""The passage budget (rag/budget.py): what the prompt carries, and that citations and checks follow it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from litopys.core.config import LLMSettings, PromptSettings
from litopys.index.reader import indexed_article
from litopys.rag.answer import Answerer
from litopys.rag.budget import GAP, blocks_tokens, estimate_tokens, fit_passages
from litopys.rag.retrieval import Passage
from litopys.rag.withhold import UNSUPPORTED
from litopys.ui.render import Target, viewer_html
from litopys.ui.strings import UK

# A long report: the question's name and figure sit in the middle, far from its start and end.
SENTENCES = [
    "Сесія міської ради тривала понад шість годин і завершилася пізно ввечері.",
    "Депутати розглянули звіт про виконання бюджету за перше півріччя.",
    "Окремо обговорили стан доріг у північних мікрорайонах міста.",
    "Мешканці скаржилися на ями та відсутність освітлення на зупинках.",
    "Ремонт даху ліцею номер сім доручили фірмі «Альфа-Буд».",
    "Договір на 2,4 мільйона гривень підписав заступник міського голови Петро Коваленко.",
    "Роботи мають завершитися до початку опалювального сезону.",
    "Контроль за якістю покладено на технічний нагляд управління освіти.",
    "Наступне засідання призначили на середину жовтня.",
    "Журналістів на засідання не пустили за рішенням секретаря ради Ірини Бондар.",
    "Трансляцію сесії вели на сайті міської ради.",
    "Кілька депутатів покинули зал ще до голосування за бюджет.",
]
ARTICLE = "Сесія міськради\n\n" + " ".join(SENTENCES)
QUESTION = "Хто підписав договір з Коваленко на 2,4 мільйона гривень?"
NAME_SENTENCE, NEIGHBOUR = SENTENCES[5], SENTENCES[6]


def _passage(n: int, text: str, start: int = 0, title: str = "Заголовок") -> Passage:
    return Passage(n, f"{n}.txt", title, "2024-05-01", text, start, start + len(text), 5.0 - n)


def words_count(text: str) -> int:
    return len(text.split())


@pytest.mark.parametrize("count", [estimate_tokens, words_count])
def test_the_budget_is_never_exceeded_and_the_best_passage_comes_first(rng, count):
    for _ in range(60):
        passages = [
            _passage(n, " ".join(rng.sample(SENTENCES, rng.randint(1, len(SENTENCES)))), title=f"Стаття {n}")
            for n in range(1, rng.randint(2, 7))
        ]
        budget = rng.randint(15, 400)
        kept = fit_passages(QUESTION, passages, budget, count)
        assert blocks_tokens(kept, count) <= budget
        assert kept and kept[0].chunk_id == passages[0].chunk_id
        ranks = [p.chunk_id for p in kept]
        assert ranks == sorted(ranks)  # rank order is kept
        for p in kept:  # every piece shown is the original's own text
            original = passages[p.chunk_id - 1].text
            assert all(piece in original for piece in p.text.split(GAP))


def test_passages_that_fit_stay_whole_and_no_budget_keeps_all():
    passages = [_passage(n, SENTENCES[n]) for n in range(1, 4)]
    assert fit_passages(QUESTION, passages, 10_000, estimate_tokens) == passages
    assert fit_passages(QUESTION, passages, 0, estimate_tokens) == passages


def test_a_long_passage_keeps_the_sentences_with_the_names_and_numbers_and_a_neighbour():
    long = _passage(1, " ".join(SENTENCES), start=len("Сесія міськради\n\n"))
    budget = blocks_tokens([long], estimate_tokens) // 3
    (cut,) = fit_passages(QUESTION, [long], budget, estimate_tokens)
    assert NAME_SENTENCE in cut.text and NEIGHBOUR in cut.text
    assert SENTENCES[0] not in cut.text and SENTENCES[-1] not in cut.text
    assert blocks_tokens([cut], estimate_tokens) <= budget
    # Adjacent kept sentences are one run of the article: the offsets locate exactly that run.
    assert ARTICLE[cut.start : cut.end] == cut.text


def test_a_passage_too_long_for_the_room_left_is_cut_or_gives_way_to_a_later_one():
    best = _passage(1, SENTENCES[4])
    idle = _passage(2, " ".join(SENTENCES[:4]))  # nothing of the question in it
    asked = _passage(3, " ".join(SENTENCES[5:12]))
    room = blocks_tokens([best, _passage(2, f"{NAME_SENTENCE} {NEIGHBOUR}")], estimate_tokens)
    kept = fit_passages(QUESTION, [best, idle, asked], room, estimate_tokens)
    assert [p.chunk_id for p in kept] == [1, 3]
    assert kept[1].text == f"{NAME_SENTENCE} {NEIGHBOUR}"


def test_the_best_passage_is_kept_even_when_one_sentence_is_over_the_budget():
    run_on = _passage(1, " ".join(s.rstrip(".") for s in SENTENCES))  # no sentence ends
    kept = fit_passages(QUESTION, [run_on], 30, words_count)
    assert len(kept) == 1 and blocks_tokens(kept, words_count) <= 30
    assert "Коваленко" in kept[0].text or "2,4" in kept[0].text
    assert run_on.text[kept[0].start : kept[0].end] == kept[0].text


@pytest.fixture(scope="module")
def news_retriever(make_retriever, tiny_embedder) -> Iterator[object]:
    articles = {"sesiia.txt": ARTICLE, "pohoda.txt": "Погода\n\nУ суботу у Львові очікується дощ і до +12 градусів."}
    with make_retriever(articles, tiny_embedder) as retriever:
        yield retriever


class FixedAnswer:
    """A ChatModel that writes ``text`` and counts tokens as the estimate does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.prompts: list[str] = []

    def stream(self, messages, sampling, slot=None):
        self.prompts.append(messages[-1]["content"])
        yield self.text

    def count_tokens(self, text: str) -> int:
        return estimate_tokens(text)

    def prime(self, slot, prefix) -> None:
        pass

    def yes_probability(self, messages, slot=None):
        return None  # like a server backend: no token probabilities, so the model-read check is skipped


def _answerer(retriever, llm: FixedAnswer, passage_tokens: int) -> Answerer:
    return Answerer(retriever, llm, LLMSettings(), PromptSettings(passage_tokens=passage_tokens))


def test_a_cut_passage_cited_in_an_answer_highlights_its_sentences_in_the_full_article(news_retriever):
    llm = FixedAnswer("Договір підписав Петро Коваленко [1].")
    answer = _answerer(news_retriever, llm, 90).ask(QUESTION)
    assert not answer.refused, answer.as_dict()
    cited = answer.citations[0].passage
    assert cited.article_id == "sesiia.txt" and NAME_SENTENCE in cited.text
    assert SENTENCES[0] not in cited.text  # the budget cut it
    assert cited.text in llm.prompts[0]  # the model saw what is cited
    article = indexed_article(news_retriever.reader.index_dir, cited.article_id)
    assert article is not None
    highlighted = article.body[cited.start : cited.end]
    assert all(piece in highlighted for piece in cited.text.split(GAP))
    html = viewer_html(article, Target(cited.article_id, cited.start, cited.end, 1), UK)
    mark = re.search(r"<mark class='lt-hit'>(.*?)</mark>", html, re.S)
    assert mark and "Коваленко" in mark.group(1) and "Сесія міської ради тривала" not in mark.group(1)


def test_the_checks_judge_against_what_the_model_saw(news_retriever):
    # Bondar is in the chunk, but not in the cut passage the model was given.
    llm = FixedAnswer("Договір підписав Петро Коваленко [1]. Журналістів не пустили за рішенням Ірини Бондар [1].")
    shown = _answerer(news_retriever, llm, 90).ask(QUESTION)
    assert shown.refused and shown.withheld and shown.withheld.reason == UNSUPPORTED
    whole = _answerer(news_retriever, FixedAnswer(llm.text), 0).ask(QUESTION)
    assert not whole.refused, whole.as_dict()


def test_a_server_without_a_tokenize_route_is_asked_once_then_estimated():
    import httpx

    from litopys.rag.llm import OpenAIChat

    asked: list[str] = []

    def no_tokenizer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return httpx.Response(404)

    chat = OpenAIChat("http://llm.invalid/v1", "m")
    chat.client = httpx.Client(transport=httpx.MockTransport(no_tokenizer))
    texts = [SENTENCES[0], SENTENCES[5], ARTICLE]
    assert [chat.count_tokens(t) for t in texts] == [estimate_tokens(t) for t in texts]
    assert asked == ["/extras/tokenize", "/tokenize"]


def test_the_bench_counts_the_user_message_with_and_without_the_budget(news_retriever):
    from litopys.bench.prompt_budget import user_tokens

    before, after = user_tokens(_answerer(news_retriever, FixedAnswer(""), 90), [QUESTION])
    assert len(before) == len(after) == 1 and after[0] < before[0]


def test_a_neighbour_never_goes_in_without_the_sentence_it_neighbours():
    best = _passage(1, SENTENCES[0])
    long_hit = "Коваленко підписав договір, " + ", ".join(["і це довгий перелік умов"] * 30) + "."
    other = _passage(2, f"{SENTENCES[1]} {long_hit} {SENTENCES[2]}")
    room = blocks_tokens([best, _passage(2, f"{SENTENCES[1]} {SENTENCES[2]}")], estimate_tokens)
    assert fit_passages(QUESTION, [best, other], room, estimate_tokens) == [best]


def test_after_the_best_passage_the_room_goes_to_the_one_that_carries_the_question():
    best = _passage(1, SENTENCES[4])
    idle = [_passage(2, SENTENCES[8]), _passage(3, SENTENCES[10])]  # short, and nothing of the question
    asked = _passage(4, NAME_SENTENCE)
    room = blocks_tokens([best, asked], estimate_tokens)  # the best and one more, whole
    kept = fit_passages(QUESTION, [best, *idle, asked], room, estimate_tokens)
    assert [p.chunk_id for p in kept] == [1, 4]  # not the 2nd by rank, which names nothing asked
    assert kept[1].text == NAME_SENTENCE


def test_passages_carrying_the_question_equally_keep_their_rank_order_and_are_numbered_by_rank():
    best = _passage(1, SENTENCES[4])
    second, third = _passage(2, SENTENCES[9]), _passage(3, SENTENCES[0])  # neither carries the question
    asked = _passage(4, NAME_SENTENCE)
    room = blocks_tokens([best, second, asked], estimate_tokens)
    kept = fit_passages(QUESTION, [best, second, third, asked], room, estimate_tokens)
    assert [p.chunk_id for p in kept] == [1, 2, 4]  # the carrier first, then the tie by rank; shown in rank order
    assert blocks_tokens(kept, estimate_tokens) <= room


def test_the_prompt_budget_bench_names_the_questions_whose_gold_answer_a_budget_drops():
    from litopys.bench.prompt_budget import PromptRow, dropped

    def row(question: str, budget: int, kept: bool) -> PromptRow:
        return PromptRow(question, budget, True, 100, 1, 0, kept, kept, kept, ("відповідь",), ("текст",), (1,), (2.0,))

    rows = [row("a", 0, True), row("a", 400, False), row("b", 0, True), row("b", 400, True), row("c", 0, False)]
    rows.append(row("c", 400, False))
    assert dropped(rows, 400) == ["a"]  # "c" had no gold answer to lose
