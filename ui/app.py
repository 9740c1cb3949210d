"""The Gradio chat: ask, watch the answer stream, check the cited passages.

Everything that comes from articles, the user or the model is shown as text:
the chat renders no Markdown and its messages are HTML-escaped (Gradio's
Chatbot still renders HTML tags such as <img> even with Markdown off, which
would let an article load remote images), and the sources panel escapes every
string it puts into HTML.
"""

from __future__ import annotations

import html
import logging
import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402  (the analytics switch must be set before import)

from litopys.errors import LitopysError  # noqa: E402
from rag.answer import Answer, Delta  # noqa: E402
from rag.followup import Turn  # noqa: E402
from ui.library import build_library_tab  # noqa: E402

log = logging.getLogger(__name__)

TITLE = "Літопис — запитання до статей"
EMPTY_SOURCES = "<div class='lt-empty'>Тут з'являться фрагменти статей, на які спирається відповідь.</div>"

CSS = """
.lt-sources { font-size: 15px; line-height: 1.5; }
.lt-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; margin: 8px 0; }
.lt-card.cited { border-left: 4px solid var(--color-accent); }
.lt-head { font-weight: 600; }
.lt-meta { color: var(--body-text-color-subdued); font-size: 13px; }
.lt-text { white-space: pre-wrap; margin-top: 6px; }
.lt-empty { color: var(--body-text-color-subdued); }
.lt-rewritten { color: var(--body-text-color-subdued); font-size: 14px; }
.lt-status th { text-align: left; padding-right: 12px; font-weight: 600; }
.lt-rejected, .lt-error { color: var(--error-text-color); }
"""


def _card(n: int, title: str, date: str | None, article_id: str, text: str, extra: str, cited: bool) -> str:
    e = html.escape
    when = f" · {e(date)}" if date else ""
    return (
        f"<div class='lt-card{' cited' if cited else ''}' data-n='{n}'>"
        f"<div class='lt-head'>[{n}] {e(title)}</div>"
        f"<div class='lt-meta'>{e(article_id)}{when}{e(extra)}</div>"
        f"<div class='lt-text'>{e(text)}</div></div>"
    )


def sources_html(answer: Answer) -> str:
    """Cited passages first, then the other retrieved ones; every string escaped."""
    cited = {c.n for c in answer.citations}
    parts = ["<div class='lt-sources'>"]
    if answer.rewritten_question:
        parts.append(
            "<p class='lt-rewritten'>Уточнене запитання для пошуку: "
            f"<q>{html.escape(answer.rewritten_question)}</q></p>"
        )
    if answer.citations:
        parts.append("<h4>Цитовані фрагменти</h4>")
    for c in answer.citations:
        note = " · процитовано після перевірки" if c.attributed else ""
        if c.supported is not None:
            note += " · ✓ підтверджує відповідь" if c.supported else " · ⚠ не підтверджує відповідь"
        parts.append(_card(c.n, c.title, c.date, c.article_id, c.text, note, True))
    others = [(n, p) for n, p in enumerate(answer.passages, 1) if n not in cited]
    if others:
        parts.append("<details><summary>Інші знайдені фрагменти</summary>")
        for n, p in others:
            parts.append(_card(n, p.title, p.date, p.article_id, p.text, f" · оцінка {p.score:.2f}", False))
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def answer_message(answer: Answer) -> str:
    """The chat text of a finished answer: the answer, then its sources as plain text."""
    lines = [answer.text or "(порожня відповідь)"]
    for claim in answer.unsupported_claims:
        why = f" (у джерелах немає: {', '.join(claim.missing)})" if claim.missing else ""
        lines.append(f"⚠ Не підтверджено цитованими фрагментами: «{claim.sentence}»{why}")
    if answer.citations:
        lines.append("")
        lines.append("Джерела:")
        for c in answer.citations:
            when = f", {c.date}" if c.date else ""
            lines.append(f"[{c.n}] {c.title}{when}")
            lines.append(f"    «{c.text.strip()}»")
    return "\n".join(lines)


def _msg(role: str, text: str) -> dict[str, str]:
    """A chat message whose text shows literally (no tag in it is rendered)."""
    return {"role": role, "content": html.escape(text, quote=False)}


def build_app(assistant) -> gr.Blocks:
    """The chat UI bound to a ready assistant."""

    def respond(question: str, history: list[dict], turns: list[Turn]):
        """Stream one answer; ``turns`` (the finished exchanges) lets follow-ups be rewritten."""
        question = (question or "").strip()
        if not question:
            gr.Warning("Введіть запитання.")
            yield "", history, gr.skip(), turns
            return
        history = history + [_msg("user", question), _msg("assistant", "…")]
        yield "", history, EMPTY_SOURCES, turns
        streamed = ""
        try:
            for event in assistant.answerer.stream(question, turns):
                if isinstance(event, Delta):
                    streamed += event.text
                    history[-1] = _msg("assistant", streamed)
                    yield "", history, gr.skip(), turns
                elif isinstance(event, Answer):
                    history[-1] = _msg("assistant", answer_message(event))
                    turns = turns + [Turn(question, event.text)]
                    yield "", history, sources_html(event), turns
        except LitopysError as exc:
            history[-1] = _msg("assistant", f"Помилка: {exc}")
            yield "", history, EMPTY_SOURCES, turns
        except Exception:  # keep the chat alive; the log has the traceback
            log.exception("answering failed")
            history[-1] = _msg("assistant", "Помилка під час відповіді; подробиці в журналі сервера.")
            yield "", history, EMPTY_SOURCES, turns

    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"## {TITLE}\nВідповіді спираються лише на проіндексовані статті й посилаються на фрагменти [n].")
        with gr.Tabs():
            with gr.Tab("Чат", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chat = gr.Chatbot(
                            label="Розмова", height=520, render_markdown=False, sanitize_html=True,
                            elem_id="lt-chat", buttons=["copy"],
                        )
                        question = gr.Textbox(
                            label="Запитання", placeholder="Наприклад: Хто може очолити російську делегацію?",
                            elem_id="lt-question", autofocus=True,
                        )
                        with gr.Row():
                            ask = gr.Button("Запитати", variant="primary", elem_id="lt-ask")
                            clear = gr.Button("Нова розмова", elem_id="lt-clear")
                    with gr.Column(scale=2):
                        gr.Markdown("### Джерела")
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="lt-sources")
            with gr.Tab("Статті та індекс", id="library", elem_id="lt-library-tab"):
                build_library_tab(assistant)
        turns = gr.State([])
        for trigger in (ask.click, question.submit):
            trigger(respond, [question, chat, turns], [question, chat, sources, turns])
        clear.click(lambda: ([], EMPTY_SOURCES, "", []), None, [chat, sources, question, turns], queue=False)
    return app

