"""Bad input never stops the run: odd and broken article files next to good ones.

The corpus is built in a temporary folder at test time (no binary files in git).
Every file is either indexed (sometimes with a warning), skipped with a reason,
or ignored silently (hidden files and editor leftovers); nothing stops the scan.
"""

from __future__ import annotations

import codecs
import errno
import gzip
import io
import json
import os
import pwd
import select
import shutil
import tempfile
import threading
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

import litopys.index.corpus as corpus_module
from litopys.core.config import Settings
from litopys.index.corpus import MAX_TITLE_CHARS, load_corpus

MAX_BYTES = Settings.model_fields["max_file_bytes"].default  # the real default limit (5,000,000)
LONG_TITLE = ("Довгий заголовок " * 300)[:5000]  # one line of exactly 5,000 characters


@dataclass(frozen=True)
class Expect:
    """What load_corpus must do with one file."""

    outcome: str  # "indexed", "skipped" or "ignored" (hidden/editor files: no article, no issue)
    reason: str = ""  # substring of the skip reason, or of the warning of an indexed file ("" = no issue)


EXPECTED: dict[str, Expect] = {
    # good files
    "seed.txt": Expect("indexed"),  # the project's seed article
    "good/plain.txt": Expect("indexed"),
    "good/notes.md": Expect("indexed"),
    "folder.txt/inside.txt": Expect("indexed"),  # a folder named like a file is walked like any folder
    # odd but usable: indexed, some with a warning
    "utf8_bom.txt": Expect("indexed"),
    "utf16_bom.txt": Expect("indexed", "read as UTF-16"),
    "utf16be_bom.txt": Expect("indexed", "read as UTF-16"),
    "utf32_bom.txt": Expect("indexed", "read as UTF-32"),
    "crlf.txt": Expect("indexed"),
    "bad_date.txt": Expect("indexed", "impossible date '2024-02-30'"),
    "long_title.txt": Expect("indexed", f"title cut to {MAX_TITLE_CHARS}"),
    "dup_a.txt": Expect("indexed"),
    # skipped with a reason
    "dup_b.txt": Expect("skipped", "same content as dup_a.txt"),
    "link_inside.txt": Expect("skipped", "same content as good/plain.txt"),  # in-corpus link = a duplicate
    "empty.txt": Expect("skipped", "empty file"),
    "whitespace.txt": Expect("skipped", "empty file"),
    "title_only.txt": Expect("skipped", "only a title line"),
    "date_no_title.txt": Expect("skipped", "date line has no title"),
    "png.txt": Expect("skipped", "binary content (a PNG image)"),
    "gzip.txt": Expect("skipped", "binary content (gzip-compressed data)"),
    "docx.txt": Expect("skipped", "binary content (a ZIP archive"),
    "nul_middle.txt": Expect("skipped", "binary content (NUL bytes)"),
    "utf16_no_bom.txt": Expect("skipped", "UTF-16 needs a byte-order mark"),
    "cp1251.txt": Expect("skipped", "Windows-1251. Re-save the file as UTF-8 (e.g. `iconv -f cp1251"),
    "latin1.txt": Expect("skipped", "Latin-1 or another 8-bit encoding. Re-save the file as UTF-8"),
    "huge_line.txt": Expect("skipped", f"over the {MAX_BYTES}-byte limit"),
    "loop.txt": Expect("skipped", "symlink loop"),
    "broken_link.txt": Expect("skipped", "broken symlink to missing.txt"),
    "outside_link.txt": Expect("skipped", "symlink points outside the corpus folder"),
    "linked_dir": Expect("skipped", "symlinked folder not followed"),
    "secret.txt": Expect("skipped", "cannot read: Permission denied"),
    "pipe.txt": Expect("skipped", "not a regular file: a named pipe (FIFO)"),
    "notes.pdf": Expect("skipped", "not an article file"),
    "image.jpg": Expect("skipped", "not an article file"),
    # ignored silently, like hidden files always were
    ".DS_Store": Expect("ignored"),
    "~draft.txt~": Expect("ignored"),
    ".article.txt.swp": Expect("ignored"),
}


def _article(title: str, body: str) -> str:
    return f"{title}\n\n{body}\n"


def build_bad_corpus(root: Path, outside: Path, seed_article: Path) -> None:
    """Write every kind of file in EXPECTED under ``root`` (and one file in ``outside``)."""
    root.mkdir(parents=True)
    outside.mkdir(parents=True)
    shutil.copy(seed_article, root / "seed.txt")
    (root / "good").mkdir()
    (root / "good" / "plain.txt").write_text(
        _article("Міст у Харкові", "У Харкові відкрили новий міст через річку Лопань."), encoding="utf-8"
    )
    (root / "good" / "notes.md").write_text(
        _article("# Бібліотека у Львові", "У Львові відкрили нову дитячу бібліотеку."), encoding="utf-8"
    )
    (root / "folder.txt").mkdir()
    (root / "folder.txt" / "inside.txt").write_text(
        _article("Стаття в теці", "Тека названа як файл, але це тека з новиною про Одесу."), encoding="utf-8"
    )

    (root / "utf8_bom.txt").write_bytes(
        codecs.BOM_UTF8 + _article("Заголовок з BOM", "Текст статті про Полтаву з міткою порядку байтів.").encode()
    )
    (root / "utf16_bom.txt").write_bytes(
        _article("Стаття в UTF-16", "Текст статті про Чернігів у кодуванні UTF-16.").encode("utf-16")
    )
    (root / "utf16be_bom.txt").write_bytes(
        codecs.BOM_UTF16_BE
        + _article("Стаття в UTF-16 BE", "Текст статті про Суми у кодуванні UTF-16 BE.").encode("utf-16-be")
    )
    (root / "utf32_bom.txt").write_bytes(
        _article("Стаття в UTF-32", "Текст статті про Житомир у кодуванні UTF-32.").encode("utf-32")
    )
    (root / "crlf.txt").write_bytes(
        "date 2024-11-14 Рядки Windows\r\nПерший абзац про Вінницю.\r\n\r\nДругий абзац.\r\n".encode()
    )
    (root / "bad_date.txt").write_text("date 2024-02-30 Неможлива дата\nТекст статті про Ужгород.\n", encoding="utf-8")
    (root / "long_title.txt").write_text(_article(LONG_TITLE, "Короткий текст статті про Херсон."), encoding="utf-8")
    (root / "dup_a.txt").write_text(_article("Дублікат", "Однаковий текст під двома назвами."), encoding="utf-8")
    (root / "dup_b.txt").write_text(_article("Дублікат", "Однаковий текст під двома назвами."), encoding="utf-8")
    (root / "link_inside.txt").symlink_to("good/plain.txt")

    (root / "empty.txt").write_bytes(b"")
    (root / "whitespace.txt").write_text("  \n\t\n   \n", encoding="utf-8")
    (root / "title_only.txt").write_text("Лише заголовок\n", encoding="utf-8")
    (root / "date_no_title.txt").write_text("date 2024-11-13\nТекст без заголовка.\n", encoding="utf-8")
    (root / "png.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06")
    (root / "gzip.txt").write_bytes(gzip.compress(_article("Стиснута", "Стиснутий текст.").encode()))
    docx = io.BytesIO()
    with zipfile.ZipFile(docx, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    (root / "docx.txt").write_bytes(docx.getvalue())
    (root / "nul_middle.txt").write_bytes(_article("Нуль посередині", "Текст\x00ще текст").encode())
    (root / "utf16_no_bom.txt").write_bytes(_article("Без BOM", "Текст у UTF-16 без мітки.").encode("utf-16-le"))
    (root / "cp1251.txt").write_bytes(
        _article("Заголовок статті", "Текст української статті про Київ і Львів.").encode("cp1251")
    )
    (root / "latin1.txt").write_bytes(
        _article("Titre de l'article", "Le café était très animé à Montréal.").encode("latin-1")
    )
    (root / "huge_line.txt").write_bytes(b"x" * (5 * 1024 * 1024))  # 5 MB, one line
    (root / "loop.txt").symlink_to("loop.txt")
    (root / "broken_link.txt").symlink_to("missing.txt")
    (outside / "article.txt").write_text(_article("Чужа стаття", "Файл поза текою корпусу."), encoding="utf-8")
    (root / "outside_link.txt").symlink_to(outside / "article.txt")
    (root / "linked_dir").symlink_to("good", target_is_directory=True)
    secret = root / "secret.txt"
    secret.write_text(_article("Закрита стаття", "Файл без права читання."), encoding="utf-8")
    secret.chmod(0)
    os.mkfifo(root / "pipe.txt")
    (root / "notes.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    (root / "image.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    (root / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (root / "~draft.txt~").write_text(_article("Чернетка", "Резервна копія редактора."), encoding="utf-8")
    (root / ".article.txt.swp").write_bytes(b"b0VIM 9.0\x00\x00")


@pytest.fixture(scope="module")
def bad_corpus(tmp_path_factory, seed) -> Path:
    base = tmp_path_factory.mktemp("bad-files")
    build_bad_corpus(base / "corpus", base / "outside", seed.path)
    return base / "corpus"


def _deny_unreadable_files(mp: pytest.MonkeyPatch) -> None:
    """Make a mode-000 file fail to open as it would for a normal user.

    Tests run as root here, and root reads mode-000 files anyway, so the
    PermissionError is simulated at the point where the OS raises it
    (test_unreadable_file_is_refused_for_real checks the real thing).
    """
    real = corpus_module.read_regular

    def read(path, max_bytes, **kw):
        if os.stat(path).st_mode & 0o777 == 0:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, max_bytes, **kw)

    mp.setattr(corpus_module, "read_regular", read)


def _load_within(root: Path, seconds: float):
    """load_corpus in a thread, failing (not hanging) if it blocks, e.g. on the FIFO."""
    result: list = []
    thread = threading.Thread(target=lambda: result.append(load_corpus(root, MAX_BYTES)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"load_corpus still running after {seconds} s (blocked on a pipe?)"
    return result[0]


@pytest.fixture(scope="module")
def loaded(bad_corpus):
    with pytest.MonkeyPatch.context() as mp:
        _deny_unreadable_files(mp)
        articles, issues = _load_within(bad_corpus, 60)
    return {a.id: a for a in articles}, issues


@pytest.mark.parametrize("rel", list(EXPECTED))
def test_each_file_is_indexed_skipped_or_ignored_with_a_reason(loaded, rel):
    articles, issues = loaded
    expect = EXPECTED[rel]
    mine = [i for i in issues if i.path == rel]
    if expect.outcome == "skipped":
        assert rel not in articles
        assert len(mine) == 1 and mine[0].skipped, mine
        assert expect.reason in mine[0].reason
    elif expect.outcome == "indexed":
        assert rel in articles, mine
        if expect.reason:
            assert len(mine) == 1 and not mine[0].skipped, mine
            assert expect.reason in mine[0].reason
        else:
            assert mine == []
    else:
        assert rel not in articles and mine == []


def test_all_good_files_and_nothing_else_are_indexed(loaded):
    articles, issues = loaded
    assert sorted(articles) == sorted(r for r, e in EXPECTED.items() if e.outcome == "indexed")
    assert {i.path for i in issues} <= set(EXPECTED)  # no surprise issues (e.g. from the outside folder)
    assert all(i.path and i.reason for i in issues)


def test_odd_but_usable_files_are_parsed_cleanly(loaded):
    articles, _ = loaded
    assert articles["utf8_bom.txt"].title == "Заголовок з BOM"
    assert articles["utf16_bom.txt"].title == "Стаття в UTF-16"
    assert articles["utf16be_bom.txt"].body == "Текст статті про Суми у кодуванні UTF-16 BE."
    assert articles["utf32_bom.txt"].title == "Стаття в UTF-32"
    crlf = articles["crlf.txt"]
    assert (crlf.date, crlf.title) == ("2024-11-14", "Рядки Windows")
    assert "\r" not in crlf.body and crlf.body == "Перший абзац про Вінницю.\n\nДругий абзац."
    assert (articles["bad_date.txt"].date, articles["bad_date.txt"].title) == (None, "Неможлива дата")
    long = articles["long_title.txt"]
    assert len(long.title) <= MAX_TITLE_CHARS and long.title.endswith("…")
    assert long.body.startswith(LONG_TITLE.strip()) and long.body.endswith("Херсон.")
    assert articles["folder.txt/inside.txt"].title == "Стаття в теці"


def test_duplicates_keep_the_first_path_in_sorted_order(tmp_path):
    (tmp_path / "b").mkdir()
    text = _article("Той самий", "Однаковий текст.")
    for rel in ("z.txt", "b/x.txt", "a.txt"):
        (tmp_path / rel).write_text(text, encoding="utf-8")
    articles, issues = load_corpus(tmp_path, MAX_BYTES)
    assert [a.id for a in articles] == ["a.txt"]
    assert {(i.path, i.reason) for i in issues} == {
        ("b/x.txt", "same content as a.txt"),
        ("z.txt", "same content as a.txt"),
    }


def test_a_fifo_does_not_block_the_scan(tmp_path):
    os.mkfifo(tmp_path / "pipe.txt")
    (tmp_path / "ok.txt").write_text(_article("Добре", "Текст."), encoding="utf-8")
    articles, issues = _load_within(tmp_path, 10)
    assert [a.id for a in articles] == ["ok.txt"]
    assert issues[0].path == "pipe.txt" and "named pipe" in issues[0].reason


def _load_as(user: pwd.struct_passwd, root: Path) -> dict:
    """Run load_corpus in a forked child that has dropped root for ``user``; its result as JSON."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never returns into pytest
        code = 0
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
            articles, issues = load_corpus(root, MAX_BYTES)
            out = {"articles": [a.id for a in articles], "issues": {i.path: i.reason for i in issues}}
        except BaseException:
            out, code = {"error": traceback.format_exc()}, 1
        os.write(w, json.dumps(out).encode())
        os._exit(code)
    os.close(w)
    chunks = []
    while select.select([r], [], [], 30)[0]:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return json.loads(b"".join(chunks) or b'{"error": "child timed out"}')


def test_unreadable_file_is_refused_for_real(tmp_path):
    """No simulation here: the OS itself denies the read.

    As root (where mode 000 does not stop reads) the load runs in a forked child
    that switched to the `nobody` user; the corpus then lives in a fresh folder
    that `nobody` may enter (pytest's own temp folders are private to root).
    """
    good = _article("Відкрита стаття", "Цей файл можна читати.")
    secret = _article("Закрита стаття", "Файл без права читання.")
    if os.geteuid() != 0:
        (tmp_path / "ok.txt").write_text(good, encoding="utf-8")
        (tmp_path / "secret.txt").write_text(secret, encoding="utf-8")
        (tmp_path / "secret.txt").chmod(0)
        articles, issues = load_corpus(tmp_path, MAX_BYTES)
        result = {"articles": [a.id for a in articles], "issues": {i.path: i.reason for i in issues}}
    else:
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("running as root and there is no `nobody` user to drop to")
        with tempfile.TemporaryDirectory(prefix="litopys-perm-") as tmp:
            root = Path(tmp)
            root.chmod(0o755)
            (root / "ok.txt").write_text(good, encoding="utf-8")
            (root / "ok.txt").chmod(0o644)
            (root / "secret.txt").write_text(secret, encoding="utf-8")
            (root / "secret.txt").chmod(0)
            result = _load_as(nobody, root)
    assert "error" not in result, result.get("error")
    assert result["articles"] == ["ok.txt"]
    assert result["issues"] == {"secret.txt": "cannot read: Permission denied"}


@pytest.mark.slow
def test_cli_index_over_bad_files_completes_with_warnings(bad_corpus, tmp_path, model_cache, cli_env, run_cli):
    """The real `litopys index --json` over the whole fixture: exit 5, right counts, every issue listed."""
    expected = dict(EXPECTED)
    if os.access(bad_corpus / "secret.txt", os.R_OK):
        # Running as root: the CLI (a separate process, no monkeypatch) can read the mode-000
        # file, so it is a good article here; test_unreadable_file_is_refused_for_real covers it.
        expected["secret.txt"] = Expect("indexed")
    proc = run_cli(cli_env(bad_corpus, tmp_path / "index", model_cache), "index", "--json", check=False)
    assert proc.returncode == 5, proc.stderr[-3000:]  # EXIT_WARNINGS: completed, some files skipped
    report = json.loads(proc.stdout)
    indexed = [r for r, e in expected.items() if e.outcome == "indexed"]
    skipped = [r for r, e in expected.items() if e.outcome == "skipped"]
    assert (report["added"], report["skipped"], report["articles_total"]) == (len(indexed), len(skipped), len(indexed))
    listed = {i["path"]: i for i in report["issues"]}
    assert set(listed) <= set(expected)
    for rel, expect in expected.items():
        if expect.outcome == "skipped" or expect.reason:
            assert rel in listed, f"{rel} is not listed in the issues"
            assert listed[rel]["skipped"] == (expect.outcome == "skipped")
            assert expect.reason in listed[rel]["reason"]
        else:
            assert rel not in listed
