"""Uploaded files are checked, named safely and saved into the corpus without losing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from litopys.index.corpus import load_corpus
from litopys.index.upload import STAGING_FOLDER, UPLOAD_FOLDER, accept_uploads, safe_name

GOOD = "date 2025-03-01 Нова стаття\nУ Львові відкрили нову бібліотеку для дітей.\n"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("стаття.txt", "стаття.txt"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("..\\..\\windows\\evil.md", "evil.md"),
        ("/abs/path/Новина 1.TXT", "Новина 1.txt"),
        ("a<b>|c?.txt", "a_b_c_.txt"),
        (".hidden.txt", "hidden.txt"),
        ("x" * 500 + ".txt", "x" * 116 + ".txt"),
    ],
)
def test_safe_name_keeps_one_plain_file_name(raw, expected):
    assert safe_name(raw) == expected


@pytest.mark.parametrize("raw", ["..", ".txt", "/", "noext", "...."])
def test_safe_name_rejects_names_with_nothing_left(raw):
    with pytest.raises(ValueError):
        safe_name(raw)


def _upload(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / "browser-upload" / name.replace("/", "_")
    folder.mkdir(parents=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_good_files_are_saved_bad_ones_rejected_with_reasons(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = [
        _upload(tmp_path, "good.txt", GOOD.encode()),
        _upload(tmp_path, "notes.md", "Нотатки\nТекст нотаток про місто.".encode()),
        _upload(tmp_path, "latin1.txt", "Título\nMañana habrá más.".encode("latin-1")),
        _upload(tmp_path, "empty.txt", b""),
        _upload(tmp_path, "title-only.txt", "Лише заголовок\n".encode()),
        _upload(tmp_path, "picture.png", b"\x89PNG\r\n\x1a\n\x00\x00"),
        _upload(tmp_path, "big.txt", b"A\n" + b"x" * 2000),
    ]
    result = accept_uploads(corpus, files, max_bytes=1000)
    assert result.saved == [f"{UPLOAD_FOLDER}/good.txt", f"{UPLOAD_FOLDER}/notes.md"]
    reasons = {i.path: i.reason for i in result.rejected}
    assert "UTF-8" in reasons["latin1.txt"]
    assert "empty" in reasons["empty.txt"]
    assert "no body" in reasons["title-only.txt"]
    assert "not an article file" in reasons["picture.png"]
    assert "limit" in reasons["big.txt"]
    # Only the accepted files reached the corpus, and nothing is left in staging.
    articles, issues = load_corpus(corpus, 1000)
    assert sorted(a.id for a in articles) == result.saved and not issues
    assert not any((corpus / STAGING_FOLDER).iterdir())


def test_an_existing_article_is_never_overwritten(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    first = accept_uploads(corpus, [_upload(tmp_path, "a.txt", GOOD.encode())], 10_000)
    assert first.saved == [f"{UPLOAD_FOLDER}/a.txt"]
    again = accept_uploads(corpus, [_upload(tmp_path / "2", "a.txt", GOOD.encode())], 10_000)
    assert again.unchanged == [f"{UPLOAD_FOLDER}/a.txt"] and not again.saved
    other = accept_uploads(corpus, [_upload(tmp_path / "3", "a.txt", ("Інша\n" + "текст " * 5).encode())], 10_000)
    assert not other.saved and "already exists" in other.rejected[0].reason
    assert (corpus / UPLOAD_FOLDER / "a.txt").read_text(encoding="utf-8") == GOOD


def test_traversal_names_land_inside_the_upload_folder(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    src = tmp_path / "src.txt"
    src.write_bytes(GOOD.encode())
    evil = tmp_path / "x" / "..%2F..%2Fescape.txt"
    evil.parent.mkdir()
    evil.write_bytes(GOOD.encode())
    result = accept_uploads(corpus, [evil], 10_000)
    assert len(result.saved) == 1
    saved = (corpus / result.saved[0]).resolve()
    assert saved.parent == (corpus / UPLOAD_FOLDER).resolve()
    assert not list(tmp_path.glob("escape*"))


def test_web_pages_and_exports_are_checked_as_the_indexer_reads_them(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    page = (
        "<html><head><title>Бібліотека</title></head><body><article><h1>Бібліотека</h1>"
        + "<p>У Львові відкрили нову бібліотеку для дітей із читальною залою на сто місць.</p>" * 3
        + "</article></body></html>"
    )
    files = [
        _upload(tmp_path, "page.html", page.encode()),
        _upload(
            tmp_path, "menu.html", b"<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav></body></html>"
        ),
        _upload(tmp_path, "rows.jsonl", '{"title": "Т", "text": "Текст рядка."}\n{broken\n'.encode()),
        _upload(tmp_path, "broken.jsonl", b"{broken\n"),
        _upload(tmp_path, "sheet.csv", b"a,b\n1,2\n"),
    ]
    result = accept_uploads(corpus, files, max_bytes=10_000)
    assert result.saved == [f"{UPLOAD_FOLDER}/page.html", f"{UPLOAD_FOLDER}/rows.jsonl"]
    reasons = {i.path: i.reason for i in result.rejected}
    assert "no article text" in reasons["menu.html"]
    assert reasons["broken.jsonl"].startswith("no usable article in it (first bad line 1: invalid JSON")
    assert "no text column" in reasons["sheet.csv"]
    # The export's bad line is the indexer's to report, as for any export in the corpus.
    articles, issues = load_corpus(corpus, 10_000)
    assert sorted(a.id for a in articles) == [f"{UPLOAD_FOLDER}/page.html", f"{UPLOAD_FOLDER}/rows.jsonl#1"]
    assert [i.path for i in issues] == [f"{UPLOAD_FOLDER}/rows.jsonl:2"]
