"""HTML for the chat: messages, citation markers, source cards and the article viewer.

Every string that comes from an article, the user or the model is HTML-escaped
here and shown as text; the only markup is what these functions write around
it. Citation markers are found in the raw answer text (the same ``MARKER``
pattern that resolves citations), the text between them is escaped, and each
marker becomes a ``<button>`` whose ``data-target`` (escaped JSON) names the
article and the cited character span. No Markdown is ever rendered. The one
link is to an article's original: only an absolute http(s) address becomes a
link (in a new tab, without opener or referrer); any other stays text.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from litopys.index.corpus import Article
from litopys.rag.answer import Answer
from litopys.rag.citations import MARKER, marker_numbers
from litopys.rag.kinds import LIST
from litopys.rag.retrieval import SECTION_PREFIX, TAG_PREFIX, Passage, QuestionDates, RetrievalFilter
from litopys.ui.strings import withheld_note

e = html.escape


@dataclass(frozen=True)
class Target:
    """What a click on a marker or card opens: a span of one article's body."""

    article_id: str
    start: int
    end: int
    n: int = 0

    def attr(self) -> str:
        """The escaped ``data-target`` attribute value."""
        return e(json.dumps({"id": self.article_id, "s": self.start, "e": self.end, "n": self.n}), quote=True)

    @classmethod
    def parse(cls, raw: str) -> Target | None:
        """The target a browser sent back, or None when it is malformed."""
        try:
            d = json.loads(raw)
            return cls(str(d["id"]), int(d["s"]), int(d["e"]), int(d.get("n", 0)))
        except (ValueError, KeyError, TypeError):
            return None


def http_url(value: str | None) -> str | None:
    """``value`` when it is an absolute http(s) address, else None (it is then shown as text)."""
    url = (value or "").strip()
    # Whitespace, control characters and these never appear unencoded in a real address.
    if not url or any(c.isspace() or ord(c) < 32 or c in '<>"`\\' for c in url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and host else None


def origin_html(url: str | None, author: str | None, outlet: str | None, s: dict[str, str]) -> str:
    """The outlet (linked to the original when its address is http(s)) and the author; empty without both."""
    link = http_url(url)
    parts = []
    name = outlet or (urlsplit(link).hostname if link else None)
    if link:
        parts.append(
            f"<a class='lt-origin-link' href='{e(link, quote=True)}' target='_blank' rel='noopener noreferrer' "
            f"title='{e(s['open_original'], quote=True)}'>{e(name or link)} ↗</a>"
        )
    elif name:
        parts.append(e(name))
    if author:
        parts.append(e(author))
    if url and not link:
        parts.append(f"<span class='lt-origin-url'>{e(url.strip())}</span>")
    return f"<div class='lt-origin'>{' · '.join(parts)}</div>" if parts else ""


def answer_targets(answer: Answer) -> dict[int, Target]:
    """Marker number -> the span it opens: its citation, else the passage of that number."""
    targets = {n: Target(p.article_id, p.start, p.end, n) for n, p in enumerate(answer.passages, 1)}
    targets.update({c.n: Target(c.passage.article_id, c.passage.start, c.passage.end, c.n) for c in answer.citations})
    return targets


def with_markers(text: str, targets: dict[int, Target] | None) -> str:
    """Escaped ``text`` with each ``[n]`` as a clickable button (a plain span while unresolved)."""
    out: list[str] = []
    pos = 0
    for match in MARKER.finditer(text):
        out.append(e(text[pos : match.start()]))
        numbers = marker_numbers(match.group(0))
        if targets and all(n in targets for n in numbers):
            out += [
                f"<button type='button' class='lt-cite' data-target='{targets[n].attr()}'>[{n}]</button>"
                for n in numbers
            ]
        else:
            out.append(f"<span class='lt-cite pending'>{e(match.group(0))}</span>")
        pos = match.end()
    out.append(e(text[pos:]))
    return "".join(out)


def user_message(question: str, s: dict[str, str]) -> str:
    return (
        f"<div class='lt-msg user'><div class='lt-role'>{e(s['you'])}</div>"
        f"<div class='lt-body'>{e(question)}</div></div>"
    )


def _bot(body: str, s: dict[str, str], state: str) -> str:
    return f"<div class='lt-msg bot' data-state='{state}'><div class='lt-role'>{e(s['assistant'])}</div>{body}</div>"


def _elapsed(key: str, s: dict[str, str]) -> str:
    # The browser counts the seconds (see ui/app.py JS): the server is busy in llama.cpp meanwhile.
    return f"<span class='lt-elapsed' data-key='{e(key)}'>0</span> {e(s['seconds'])}"


def thinking_message(key: str, s: dict[str, str]) -> str:
    """The placeholder shown until the first token arrives, with a running seconds counter."""
    return _bot(
        f"<div class='lt-thinking' role='status'><span class='lt-spinner'></span>"
        f"{e(s['thinking'])} {_elapsed(key, s)}</div>",
        s,
        "thinking",
    )


def streaming_message(text: str, key: str, s: dict[str, str]) -> str:
    """The answer as it is being written (markers not yet clickable: passages come at the end)."""
    return _bot(
        f"<div class='lt-body lt-answer-text'>{with_markers(text, None)}</div>"
        f"<div class='lt-thinking' role='status'>{e(s['writing'])} {_elapsed(key, s)}</div>",
        s,
        "streaming",
    )


def error_message(text: str, s: dict[str, str]) -> str:
    return _bot(f"<div class='lt-body lt-error'>{e(text)}</div>", s, "error")


def _copy_tools(answer: Answer, s: dict[str, str]) -> str:
    took = answer.timings.get("total_s")
    when = f"<span class='lt-took'>{e(s['answered_in'].format(seconds=took))}</span>" if took else ""
    return (
        f"<div class='lt-tools'><button type='button' class='lt-copy' data-copied='{e(s['copied'], quote=True)}'>"
        f"{e(s['copy'])}</button>{when}</div>"
    )


def list_message(answer: Answer, s: dict[str, str]) -> str:
    """A list answer: its head line, then one button per article (title, date) that opens it in the viewer."""
    if not answer.articles:
        return _bot(f"<div class='lt-body lt-answer-text'>{e(answer.text)}</div>{_copy_tools(answer, s)}", s, "done")
    head = answer.text.split("\n", 1)[0]
    targets = answer_targets(answer)
    items = []
    for n, a in enumerate(answer.articles, 1):
        when = f" ({a.date})" if a.date else ""
        items.append(
            f"<li>{n}. <button type='button' class='lt-cite lt-listed' data-target='{targets[n].attr()}'>"
            f"{e(a.title)}</button>{e(when)}</li>"
        )
    # Newlines between the items (collapsed on screen) keep the text of the list one article a line.
    listed = "".join(f"\n{item}" for item in items)
    return _bot(
        f"<div class='lt-body lt-answer-text'>{e(head)}<ul class='lt-list'>{listed}</ul></div>"
        f"<div class='lt-note'>{e(s['list_note'])}</div>{_copy_tools(answer, s)}",
        s,
        "done",
    )


def answer_message(answer: Answer, s: dict[str, str], stopped: bool = False) -> str:
    """A finished answer: text with clickable markers, grounding warnings, its sources, copy button."""
    if answer.kind == LIST:
        return list_message(answer, s)
    targets = answer_targets(answer)
    parts = [f"<div class='lt-body lt-answer-text'>{with_markers(answer.text or s['empty_answer'], targets)}</div>"]
    if stopped:
        parts.append(f"<div class='lt-note'>{e(s['stopped'])}</div>")
    if answer.low_evidence:
        parts.append(f"<div class='lt-note lt-low-evidence'>{e(s['low_evidence'])}</div>")
    if answer.withheld:
        w = answer.withheld
        note = withheld_note(w.reason, w.missing, w.draft, s)
        parts.append(f"<div class='lt-warn lt-withheld'>{e(note)}</div>")
    for claim in answer.unsupported_claims:
        why = s["missing"].format(words=", ".join(claim.missing)) if claim.missing else ""
        parts.append(f"<div class='lt-warn'>{e(s['unsupported'].format(sentence=claim.sentence) + why)}</div>")
    if answer.citations:
        items = []
        for c in answer.citations:
            p = c.passage
            when = f", {p.date}" if p.date else ""
            items.append(
                f"<li><button type='button' class='lt-cite' data-target='{targets[c.n].attr()}'>[{c.n}]</button> "
                f"<span class='lt-ref-title'>{e(p.title + when)}</span>"
                f"<div class='lt-quote'>«{e(p.text.strip())}»</div></li>"
            )
        parts.append(
            f"<div class='lt-refs'><div class='lt-refs-head'>{e(s['refs'])}</div><ul>{''.join(items)}</ul></div>"
        )
    parts.append(_copy_tools(answer, s))
    return _bot("".join(parts), s, "stopped" if stopped else "done")


def answer_from_chat(chat: str) -> tuple[str, str]:
    """(state, plain text) of the last assistant message of a rendered chat.

    For clients of the chat's ``/respond`` API (the load script, tests): ``state`` is
    "thinking", "streaming", "done", "stopped" or "error".
    """
    start = chat.rfind("<div class='lt-msg bot' data-state='")
    if start < 0:
        return "", ""
    last = chat[start:]
    state = last.split("data-state='", 1)[1].split("'", 1)[0]
    body = re.search(r"<div class='lt-body[^']*'>(.*?)</div>", last, re.S)
    return state, html.unescape(re.sub(r"<[^>]+>", "", body.group(1))) if body else ""


def chat_html(messages: list[str], s: dict[str, str]) -> str:
    """The whole conversation (``messages`` are already rendered by the functions above)."""
    body = "".join(messages) or f"<div class='lt-empty'>{e(s['empty_chat'])}</div>"
    return f"<div class='lt-log' aria-live='polite'>{body}</div>"


def filter_html(f: RetrievalFilter | None, s: dict[str, str]) -> str:
    """One line naming the active filter (or saying that all articles are searched)."""
    if f is None or not f.active:
        return f"<p class='lt-filter'>{e(s['filter_none'])}</p>"
    parts = []
    if f.date_from:
        parts.append(s["filter_from"].format(date=f.date_from))
    if f.date_to:
        parts.append(s["filter_to"].format(date=f.date_to))
    if f.articles or f.folders:
        parts.append(s["filter_in"].format(paths=", ".join(f.folders + f.articles)))
    if f.sections or f.tags:
        named = [f"{SECTION_PREFIX}{x}" for x in f.sections] + [f"{TAG_PREFIX}{x}" for x in f.tags]
        parts.append(s["filter_in"].format(paths=", ".join(named)))
    return f"<p class='lt-filter active'>{e(s['filter_active'].format(parts='; '.join(parts)))}</p>"


def dates_note(dates: QuestionDates, s: dict[str, str]) -> str:
    """The dates read from the question, and whether they filtered the search (and why not)."""
    said, span = dates.range.text, dates.range.span
    if dates.applied:
        return s["dates_read"].format(text=said, span=span)
    return s["dates_not_applied"].format(text=said, span=span, why=s[f"dates_{dates.not_applied}"])


def filter_error_html(text: str) -> str:
    return f"<div class='lt-sources'><p class='lt-error lt-filter-error'>{e(text)}</p></div>"


def _card(n: int, p: Passage, notes: list[str], target: Target, cited: bool, s: dict[str, str]) -> str:
    meta = " · ".join([p.article_id, p.date or s["no_date"], *notes])
    return (
        f"<div class='lt-card{' cited' if cited else ''}' role='button' tabindex='0' data-n='{n}' "
        f"data-target='{target.attr()}'>"
        f"<div class='lt-head'>[{n}] {e(p.title)}</div>"
        f"{origin_html(p.url, p.author, p.outlet, s)}"
        f"<div class='lt-meta'>{e(meta)}</div>"
        f"<div class='lt-text'>{e(p.text)}</div></div>"
    )


def _score_notes(p: Passage, s: dict[str, str]) -> list[str]:
    """A passage's retrieval score, and what of it a latest-news question gave for a recent date."""
    notes = [s["score"].format(score=p.score)]
    if p.recency:
        notes.append(s["recency"].format(gain=p.recency))
    return notes


def sources_html(answer: Answer | None, f: RetrievalFilter | None, s: dict[str, str]) -> str:
    """The filter, then cited passages first and the other retrieved ones; each card opens the viewer."""
    parts = ["<div class='lt-sources'>", filter_html(f, s)]
    if answer is None:
        parts.append(f"<div class='lt-empty'>{e(s['empty_sources'])}</div></div>")
        return "".join(parts)
    if answer.rewritten_question:
        parts.append(f"<p class='lt-rewritten'>{e(s['rewritten'])}<q>{e(answer.rewritten_question)}</q></p>")
    if answer.dates:
        parts.append(f"<p class='lt-dates'>{e(dates_note(answer.dates, s))}</p>")
    if answer.grounding is not None:
        parts.append(f"<p class='lt-grounding'>{e(s['grounding'].format(share=answer.grounding))}</p>")
    if not answer.passages:
        parts.append(f"<div class='lt-empty'>{e(s['no_passages'])}</div>")
    targets = answer_targets(answer)
    scores = {n: _score_notes(p, s) for n, p in enumerate(answer.passages, 1)}
    if answer.citations:
        parts.append(f"<h4>{e(s['cited'])}</h4>")
    for c in answer.citations:
        notes = list(scores.get(c.n, []))
        if c.attributed:
            notes.append(s["attributed"])
        if c.supported is not None:
            notes.append(s["supported"] if c.supported else s["not_supported"])
        parts.append(_card(c.n, c.passage, notes, targets[c.n], True, s))
    if answer.kind == LIST and answer.articles:
        parts.append(f"<h4>{e(s['listed'])}</h4>")
        for n, a in enumerate(answer.articles, 1):
            notes = [*scores[n], s["list_passages"].format(count=len(a.passages))]
            parts.append(_card(n, a.best, notes, targets[n], False, s))
        parts.append("</div>")
        return "".join(parts)
    cited = {c.n for c in answer.citations}
    others = [(n, p) for n, p in enumerate(answer.passages, 1) if n not in cited]
    if others:
        parts.append(f"<h4>{e(s['others'])}</h4>")
        for n, p in others:
            notes = [*scores[n], s["not_cited"]]
            parts.append(_card(n, p, notes, targets[n], False, s))
    parts.append("</div>")
    return "".join(parts)


def viewer_html(article: Article | None, target: Target | None, s: dict[str, str]) -> str:
    """The article (title, date, full text) with the cited span in ``<mark>``; all of it escaped."""
    if target is None:
        return f"<div class='lt-viewer-empty lt-empty'>{e(s['empty_viewer'])}</div>"
    if article is None:
        return f"<div class='lt-viewer-empty lt-error'>{e(s['article_gone'])}</div>"
    body = article.body
    start = min(max(target.start, 0), len(body))
    end = min(max(target.end, start), len(body))
    label = f"[{target.n}] " if target.n else ""
    meta = [article.date or s["no_date"], article.id]
    meta += [article.section] if article.section else []
    meta += [", ".join(f"#{tag}" for tag in article.tags)] if article.tags else []
    return (
        f"<article class='lt-article' data-key='{target.attr()}'>"
        f"<h3 class='lt-article-title'>{e(label)}{e(article.title)}</h3>"
        f"{origin_html(article.url, article.author, article.outlet, s)}"
        f"<div class='lt-meta'>{e(' · '.join(meta))}</div>"
        f"<div class='lt-article-body'>{e(body[:start])}<mark class='lt-hit'>{e(body[start:end])}</mark>"
        f"{e(body[end:])}</div></article>"
    )
