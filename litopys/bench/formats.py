"""Ingest throughput by article format, for `litopys bench-index-steps --formats N`.

The same N articles of a corpus are written three ways: as the plain-text files they are,
as saved web pages (with a menu, "read also" links, comments and a footer for trafilatura
to strip), and as one JSONL export. For each format, one run times reading and extracting
the folder alone (``load_corpus``, the faster of two reads) and a full build into a fresh index, so the share of a
build spent on extraction shows whether the embedder is still the bottleneck.
"""

from __future__ import annotations

import html
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from litopys.core.config import Settings
from litopys.index.builder import build_index
from litopys.index.corpus import Article, load_corpus
from litopys.index.embedder import Embedder
from litopys.index.lemmatize import lemma

FORMATS = ("txt", "html", "jsonl")

PAGE = """<!DOCTYPE html>
<html lang="uk"><head><meta charset="utf-8">
<title>{title} | Новини</title>
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Новини">
<meta property="article:published_time" content="{date}T10:00:00+02:00">
<meta name="author" content="Редакція">
<link rel="canonical" href="https://news.example.ua/{n}">
</head><body>
<header><nav><ul><li><a href="/">Головна</a></li><li><a href="/politics/">Політика</a></li>
<li><a href="/economy/">Економіка</a></li><li><a href="/sport/">Спорт</a></li></ul></nav></header>
<main><article><h1>{title}</h1><time datetime="{date}">{date}</time>
{paragraphs}
<aside class="read-also"><h3>Читайте також</h3><ul><li><a href="/1">Інша новина дня</a></li>
<li><a href="/2">Ще одна новина</a></li></ul></aside></article>
<section class="comments"><h3>Коментарі</h3><div class="comment">Дякую за новину!</div></section></main>
<footer>© 2024 Новини. Усі права захищено. Передрук лише з посиланням.</footer>
</body></html>
"""


@dataclass(frozen=True)
class FormatRun:
    """One format's figures: extraction alone and a full build, on the same articles."""

    articles: int
    chunks: int
    extract_s: float
    build_s: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "articles": self.articles,
            "chunks": self.chunks,
            "extract_s": round(self.extract_s, 3),
            "build_s": round(self.build_s, 3),
            "extract_articles_per_s": round(self.articles / self.extract_s, 1),
            "build_articles_per_s": round(self.articles / self.build_s, 2),
            "extract_share_of_build": round(self.extract_s / self.build_s, 4),
        }


def write_formats(articles: list[Article], root: Path) -> dict[str, Path]:
    """Write ``articles`` as .txt files, .html pages and one .jsonl export under ``root``."""
    folders = {name: root / name for name in FORMATS}
    for folder in folders.values():
        folder.mkdir(parents=True)
    rows = []
    for n, a in enumerate(articles):
        date = a.date or "2024-11-13"
        (folders["txt"] / f"{n:05d}.txt").write_text(f"date {date} {a.title}\n{a.body}\n", encoding="utf-8")
        paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in a.body.split("\n") if p.strip())
        page = PAGE.format(title=html.escape(a.title), date=date, n=n, paragraphs=paragraphs)
        (folders["html"] / f"{n:05d}.html").write_text(page, encoding="utf-8")
        rows.append({"id": n, "title": a.title, "date": date, "text": a.body, "url": f"https://news.example.ua/{n}"})
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    (folders["jsonl"] / "export.jsonl").write_text(lines, encoding="utf-8")
    return folders


def format_throughput(settings: Settings, embedder: Embedder, corpus: Path, limit: int) -> dict[str, dict]:
    """Articles/s of extraction and of a full build for each format, over ``limit`` articles of ``corpus``."""
    source, _ = load_corpus(corpus, settings.max_file_bytes, settings.exports)
    articles = [a for a in source if "#" not in a.id][:limit]
    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="litopys-formats-") as tmp:
        folders = write_formats(articles, Path(tmp))
        for name, folder in folders.items():
            found, extract_s = _timed_load(folder, settings)
            lemma.cache_clear()  # every format's build starts with nothing cached
            run = settings.model_copy(update={"corpus_dir": folder, "index_dir": Path(tmp) / f"index-{name}"})
            report = build_index(run, embedder)
            results[name] = FormatRun(len(found), report.chunks_total, extract_s, report.seconds).as_dict()
    return results


def _timed_load(folder: Path, settings: Settings) -> tuple[list[Article], float]:
    """The folder's articles and the faster of two reads: the first pays for imports and caches."""
    times = []
    for _ in range(2):
        t = time.perf_counter()
        found, _ = load_corpus(folder, settings.max_file_bytes, settings.exports)
        times.append(time.perf_counter() - t)
    return found, min(times)


def format_line(name: str, r: dict) -> str:
    """One printed line for a format's figures."""
    return (
        f"{name:<6} {r['articles']} articles, {r['chunks']} chunks: extraction {r['extract_articles_per_s']:.0f} "
        f"articles/s, full build {r['build_articles_per_s']:.1f} articles/s "
        f"(extraction {100 * r['extract_share_of_build']:.1f}% of the build)"
    )
