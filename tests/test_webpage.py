"""Saved web pages: main text, title, date, author, URL by trafilatura; boilerplate stays out.

The pages in tests/data/html imitate real news layouts (Ukrainian and English): menus,
"read also" lines inside the text, related-story boxes, comments, sidebars, footers,
JSON-LD, OpenGraph and microdata metadata, an old table layout, AMP, a windows-1251
page, malformed markup, an empty <body> and a list of headlines with no article.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from litopys.index.corpus import ArticleFormatError, load_corpus
from litopys.index.webpage import parse_page

PAGES = Path(__file__).parent / "data" / "html"


@dataclass(frozen=True)
class Page:
    """What one saved page must give."""

    title: str
    date: str | None
    text: list[str]  # in the body
    boilerplate: list[str]  # not in the body
    author: str | None = None
    url: str | None = None
    outlet: str | None = None
    section: str | None = None
    tags: tuple[str, ...] = ()


EXPECTED = {
    "uk_pravda_article.html": Page(
        "У Львові відкрили новий міст через Полтву",
        "2024-03-15",
        ["урочисто відкрили новий пішохідний міст", "48 мільйонів гривень", "Личаківського кладовища"],
        [
            "Читайте також",
            "Поштову площу",
            "Нарешті!",
            "Тарас_77",
            "Популярне",
            "Уряд ухвалив новий бюджет",
            "Усі права захищено",
            "Пошук по сайту",
            "Колонки",
            "Поділитися",
        ],
        author="Олена Коваль",
        url="https://www.pravda.com.ua/news/2024/03/15/7446001/",
        outlet="Українська правда",
        section="Суспільство",
    ),
    "en_bbc_like.html": Page(
        "Ukraine grain exports rise despite port attacks",
        "2024-01-29",
        ["5.2 million tonnes", "insurance costs for ships"],
        [
            "More on this story",
            "Black Sea corridor works",
            "Most read",
            "Storm warning",
            "Skip to content",
            "Privacy Policy",
            "Innovation",
        ],
        author="James Whitfield",
        url="https://www.worldnewsdaily.example/news/world-europe-68123456",
        outlet="World News Daily",
    ),
    "en_blog_time.html": Page(
        "City council approves bike lanes on Main Street",
        "2023-06-02",
        ["voted 7 to 2", "forty-two parking spaces", "$1.8 million"],
        [
            "Sign up for our free morning newsletter",
            "Share this",
            "Another waste of taxpayer money",
            "Bob K.",
            "thoughts on",
            "Proudly independent",
            "Log in",
        ],
        author="Jane Doe",
        url="https://riversidegazette.example/2023/06/02/bike-lanes-main-street/",
        outlet="The Riverside Gazette",
        tags=("transport", "city council"),
    ),
    "uk_regional_table.html": Page(
        "Новини Полтавщини :: У Кременчуці відремонтують водогін",
        "2021-09-07",
        ["12 мільйонів гривень", "поліетиленові труби"],
        ["Рубрики", "Опитування", "Чи задоволені ви", "Лічильник відвідувань", "Передрук матеріалів"],
    ),
    "en_wire_microdata.html": Page(
        "Drought cuts Danube shipping to a trickle",
        "2022-08-12",
        ["quarter of their usual load", "autumn rains in October"],
        ["Related Coverage", "Rhine levels", "Advertisement", "Trust Principles", "quotes delayed"],
        author="Katarina Novak",
        url="https://continentalwire.example/world/europe/drought-cuts-danube-shipping-2022-08-12/",
    ),
    "uk_interview_tags.html": Page(
        "Історикиня Ірина Гнатюк: «Архіви Чернігова вціліли завдяки бібліотекарям»",
        "2023-11-20",
        ["понад три тисячі рукописів", "— Скільки людей брало в цьому участь?", "оцифровуємо врятовані рукописи"],
        [
            "Читайте також",
            "Наталка Полтавка",
            "Підписуйтесь",
            "Останні новини",
            "відновили рух поїздів",
            "гіперпосилання обов'язкове",
            "Про редакцію",
        ],
        author="Андрій Мельник",
        url="https://chernihiv-visnyk.example/interview/arkhivy-vtsilily",
        outlet="Чернігівський вісник",
        section="Культура",
        tags=("архіви", "Чернігів"),
    ),
    "en_press_release.html": Page(
        "Harbour Authority announces new ferry route",
        "2022-03-03",
        ["island of Skerry", "travel for free"],
        ["We use cookies", "Accept all", "Careers", "Quay Road"],
    ),
    "uk_amp.html": Page(
        "Ціни на хліб в Одесі зросли на 15%",
        "2023-02-08",
        ["до 32 гривень", "мережі пекарень «Колосок»"],
        ["Стрічка новин", "Вас також може зацікавити", "подорожчав проїзд", "Всі права захищені"],
        author="Світлана Бондар",
        url="https://dumska.example/news/tsiny-na-khlib-zrosly",
        outlet="Думська",
        section="Економіка",
    ),
    "en_opinion_long.html": Page(
        "Why small towns need their local papers",
        "2021-10-05",
        ["Millbrook Courier printed its last edition", "someone in the room"],
        [
            "free articles left",
            "Subscribe now",
            "Read more from Opinion",
            "four-day school week",
            "Obituaries",
            "Letters to the editor",
        ],
        author="Robert Ellison",
        url="https://eveningledger.example/opinion/why-small-towns-need-local-papers",
        section="Opinion",
    ),
    "uk_date_in_text.html": Page(
        "Житомирська громада отримала нові шкільні автобуси",
        "2021-05-12",
        ["Сім нових шкільних автобусів", "ще дев'ять автобусів"],
        ["Поділитися новиною", "Дивіться також", "новий сквер", "Реклама на сайті", "Контакти"],
    ),
    # The date is written only in words in the text: trafilatura's markup search finds none, htmldate does.
    "uk_date_in_words.html": Page(
        "У Вінниці запрацював фонтан на Південному Бузі",
        "2021-09-07",
        ["світломузичний фонтан «Рошен»", "щовечора о 21:00"],
        ["Ваш коментар", "Надіслати", "Афіша", "Усі права застережено"],
    ),
    # Only a copyright year: htmldate's guess (2019-01-01) is not taken for the publication date.
    "en_no_date.html": Page(
        "Volunteers restore the old lighthouse at Gull Point",
        None,
        ["forty volunteers", "keeper's cottage"],
        ["Coastal Notes", "Gull Point Society"],
    ),
    "uk_cp1251.html": Page(
        "На Буковині зібрали рекордний урожай чорниці",
        "2019-08-21",
        ["понад 400 тонн чорниці", "45 гривень за кілограм"],
        ["Туризм", "© Буковинські новини"],
        author="Василь Гуцул",
    ),
    "malformed.html": Page(
        "Повінь на Закарпатті: підтоплено 40 будинків",
        "2020-06-24",
        ["сорок житлових будинків & кілька сотень", "евакуювали 120 людей", "якщо припиняться дощі"],
        ["Закарпаття онлайн"],
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_page_gives_its_article_and_metadata_without_boilerplate(name):
    want = EXPECTED[name]
    article, warnings = parse_page(name, (PAGES / name).read_bytes())
    assert warnings == []
    assert (article.id, article.title, article.date) == (name, want.title, want.date)
    assert (article.author, article.url, article.section, article.tags) == (
        want.author,
        want.url,
        want.section,
        want.tags,
    )
    if want.outlet:
        assert article.outlet == want.outlet
    for phrase in want.text:
        assert phrase in article.body, phrase
    for phrase in want.boilerplate:
        assert phrase not in article.body, phrase
    # The headline is the title, not the body's first paragraph; paragraphs stay apart.
    assert not article.body.startswith(want.title) and "\n\n" in article.body
    assert article.body == article.body.strip() and "\n\n\n" not in article.body


def test_pages_of_both_languages_and_many_layouts_are_covered():
    assert len(EXPECTED) >= 10
    assert {name.split("_")[0] for name in EXPECTED} >= {"uk", "en"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("empty_body.html", "empty page: its <body> has no text"),
        ("uk_category_listing.html", "no article text found"),
    ],
)
def test_page_without_article_text_is_refused_with_the_reason(name, reason):
    with pytest.raises(ArticleFormatError, match=reason):
        parse_page(name, (PAGES / name).read_bytes())


def test_a_page_that_is_not_html_at_all_is_refused():
    with pytest.raises(ArticleFormatError, match="binary"):
        parse_page("x.html", b"\x89PNG\r\n\x1a\n\x00\x00")
    with pytest.raises(ArticleFormatError):
        parse_page("x.html", b"")


def test_same_content_gives_the_same_hash_and_other_metadata_another():
    page = (PAGES / "uk_amp.html").read_bytes()
    a, _ = parse_page("a.html", page)
    b, _ = parse_page("b.html", page.replace(b"<amp-ad", b"<amp-ad data-slot='x'"))  # other ads, same article
    c, _ = parse_page("c.html", page.replace("Світлана Бондар".encode(), "Світлана Бондаренко".encode()))
    assert a.content_hash == b.content_hash != c.content_hash


def test_corpus_indexes_good_pages_and_lists_the_skipped_ones(tmp_path):
    for name in EXPECTED:
        shutil.copy(PAGES / name, tmp_path / name)
    shutil.copy(PAGES / "empty_body.html", tmp_path / "empty_body.htm")
    shutil.copy(PAGES / "uk_category_listing.html", tmp_path / "listing.html")
    articles, issues = load_corpus(tmp_path, max_bytes=1_000_000)
    assert sorted(a.id for a in articles) == sorted(EXPECTED)
    reasons = {i.path: i.reason for i in issues}
    assert reasons.keys() == {"empty_body.htm", "listing.html"}
    assert all(i.skipped for i in issues)
    assert "no article text" in reasons["listing.html"]


SHORT = "У Києві сьогодні відкрили новий міст через Дніпро для пішоходів."


@pytest.mark.parametrize(
    "body",
    [
        f"<article><h1>Міст</h1><p>{SHORT}</p></article>",
        f"<table><tr><td class='text'>{SHORT} Його будували три роки.</td></tr></table>",
        f"<div>{SHORT}<br>Його будували три роки.</div>",
    ],
)
def test_a_short_article_in_any_markup_is_still_an_article(body):
    page = f"<html><head><title>Міст</title></head><body><nav><a href='/'>Головна</a></nav>{body}</body></html>"
    article, _ = parse_page("short.html", page.encode())
    assert article.title == "Міст" and article.body.startswith(SHORT)


@pytest.mark.parametrize(
    "body",
    [
        "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>",
        "<h1>Новини</h1><ul><li><a href='/1'>Уряд продовжив програму доступних кредитів для бізнесу</a></li></ul>",
        "<div class='gallery'><img src='1.jpg'><img src='2.jpg'><p>Фото: Іван Петренко</p></div>",
    ],
)
def test_menus_headlines_and_captions_alone_are_not_an_article(body):
    page = f"<html><head><title>Сайт</title></head><body>{body}</body></html>"
    with pytest.raises(ArticleFormatError, match="no article text found"):
        parse_page("x.html", page.encode())


def test_a_page_without_a_title_takes_its_first_line_and_says_so():
    page = f"<html><body><div class='text'><p>{SHORT}</p><p>Його будували три роки.</p></div></body></html>"
    article, warnings = parse_page("untitled.html", page.encode())
    assert article.title == SHORT
    assert warnings == ["no title in the page: the first line of the text is the title"]
