"""Parsing article files into Articles, and skipping bad files with a reason."""

from pathlib import Path

import pytest

from litopys.index.corpus import ArticleFormatError, load_corpus, parse_article

SEED = Path(__file__).resolve().parents[1] / "seeds" / "000_0eb56f0bcda4d5b8.txt"


def test_seed_format_gives_date_and_title():
    article, warnings = parse_article("000.txt", SEED.read_text(encoding="utf-8"))
    assert article.date == "2025-12-17"
    assert article.title.startswith("Американська сторона ознайомить")
    assert article.body.startswith("Цими вихідними у Майамі")
    assert warnings == []


def test_plain_title_line_has_no_date():
    article, _ = parse_article("a.txt", "Суд оштрафував фірму\n\nСуд оштрафував фірму на 5 тис. грн.\n")
    assert article.date is None
    assert article.title == "Суд оштрафував фірму"
    assert article.body == "Суд оштрафував фірму на 5 тис. грн."


def test_bom_and_leading_space_are_ignored():
    article, _ = parse_article("a.txt", "\ufeff date 2024-11-13 Заголовок\nТекст.")
    assert (article.date, article.title, article.body) == ("2024-11-13", "Заголовок", "Текст.")


def test_impossible_date_is_a_warning_not_a_failure():
    article, warnings = parse_article("a.txt", "date 2024-02-30 Заголовок\nТекст.")
    assert article.date is None and article.title == "Заголовок"
    assert "impossible date" in warnings[0]


@pytest.mark.parametrize(
    "text, reason",
    [("", "empty"), ("   \n\n", "empty"), ("Лише заголовок\n", "only a title"), ("a\x00b\nc", "binary")],
)
def test_unusable_content_raises(text, reason):
    with pytest.raises(ArticleFormatError, match=reason):
        parse_article("a.txt", text)


def test_same_text_same_hash_and_edit_changes_it():
    a, _ = parse_article("a.txt", "Т\nтекст")
    b, _ = parse_article("b.txt", "Т\nтекст")
    c, _ = parse_article("a.txt", "Т\nтекст!")
    assert a.content_hash == b.content_hash != c.content_hash


def test_load_corpus_skips_bad_files_and_goes_on(tmp_path):
    (tmp_path / "good.txt").write_text("Заголовок\n\nТекст статті.", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "nested.md").write_text("date 2024-11-14 Інша\nЩе текст.", encoding="utf-8")
    (tmp_path / "latin1.txt").write_bytes("Заголовок\nТекст".encode("cp1251"))
    (tmp_path / "binary.txt").write_bytes(b"\x89PNG\x00\x00\x00")
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "notes.csv").write_text("a,b")
    (tmp_path / ".hidden.txt").write_text("Заголовок\nТекст")
    (tmp_path / "loop.txt").symlink_to(tmp_path / "loop.txt")
    big = tmp_path / "big.txt"
    big.write_text("Заголовок\n" + "слово " * 300)
    articles, issues = load_corpus(tmp_path, max_bytes=1000)
    assert sorted(a.id for a in articles) == ["good.txt", "sub/nested.md"]
    reasons = {i.path: i.reason for i in issues}
    assert "UTF-8" in reasons["latin1.txt"]
    assert "binary" in reasons["binary.txt"]
    assert "empty" in reasons["empty.txt"]
    assert "not an article file" in reasons["notes.csv"]
    assert "not a regular file" in reasons["loop.txt"]
    assert "limit" in reasons["big.txt"]
    assert ".hidden.txt" not in reasons


def test_missing_corpus_folder_is_a_clear_error(tmp_path):
    from litopys.core.errors import CorpusError

    with pytest.raises(CorpusError, match="corpus folder not found"):
        load_corpus(tmp_path / "nope", max_bytes=1000)
