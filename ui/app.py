"""The Gradio chat: ask, watch the answer stream, click a citation to read it in its article.

All HTML comes from ui/render.py, which escapes every string from articles,
users or the model (no Markdown is rendered). The little JavaScript
(ui/static/page.js, scroll.js) only routes clicks on ``[n]`` markers and source
cards to the viewer, counts the seconds while the model thinks, copies answers
and keeps the chat scrolled; the styles are in ui/static/chat.css.

Answering runs in the queue, ``server.concurrency_limit`` at a time (``concurrency_id="llm"``, one local
LLM); the viewer, Stop and "new chat" bypass the queue so they respond while an
answer is being generated. Stop sets a per-session ``threading.Event`` that the
generation loop checks between tokens; cancelling the Gradio event alone would
leave llama.cpp running in its worker thread.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import uuid
from dataclasses import dataclass, field
from importlib import resources

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from litopys.core.config import Settings
from litopys.core.errors import FilterError, LitopysError
from litopys.index.backend import indexed_article, list_articles, list_sections_and_tags
from litopys.rag.answer import Answer, Delta
from litopys.rag.followup import Turn
from litopys.rag.retrieval import SECTION_PREFIX, TAG_PREFIX, RetrievalFilter
from litopys.ui import render
from litopys.ui.library import build_library_tab
from litopys.ui.strings import strings

log = logging.getLogger(__name__)


def asset(name: str) -> str:
    """The text of ``ui/static/<name>``, read as package data (so it works from a wheel too)."""
    return resources.files("litopys.ui").joinpath("static", name).read_text(encoding="utf-8")


# Read once at import. CSS goes to ``launch(css=...)``; the JS files each hold one arrow function.
CSS = asset("chat.css")
PAGE_JS = asset("page.js")  # installed once per page: click routing, seconds counter, copying, autoscroll
SCROLL_JS = asset("scroll.js")  # after the viewer is filled: bring the highlighted span into view


@dataclass
class Run:
    """One answer being generated for a browser session."""

    stop: threading.Event = field(default_factory=threading.Event)
    cleared: bool = False  # "new chat" pressed meanwhile: drop the rest of this answer


def path_choices(settings: Settings) -> list[tuple[str, str]]:
    """Filter choices: every folder (``name/``), export file, section, tag and article of the index."""
    articles = list_articles(settings)
    folders = sorted({aid.rsplit("/", i)[0] + "/" for aid, _, _ in articles for i in range(1, aid.count("/") + 1)})
    exports = sorted({aid.partition("#")[0] for aid, _, _ in articles if "#" in aid})
    sections, tags = list_sections_and_tags(settings)
    return (
        [(f"{f} 📁", f) for f in folders]
        + [(f"{f} 📄", f) for f in exports]
        + [(f"🗂 {name}", f"{SECTION_PREFIX}{name}") for name in sections]
        + [(f"🏷 {name}", f"{TAG_PREFIX}{name}") for name in tags]
        + [(f"{aid} — {title}", aid) for aid, title, _ in articles]
    )


def _buttons(busy: bool) -> tuple[gr.Button, gr.Button]:
    """Updates for (Ask, Stop): only one of them is usable at a time."""
    return gr.Button(interactive=not busy), gr.Button(interactive=busy)


def _session(request: gr.Request | None) -> str:
    return (request.session_hash or "") if request else ""


def user_dates(date_from: str | None, date_to: str | None, shown: list[str] | None) -> tuple[str, str, bool]:
    """The user's own date range in the filter fields, and whether to read dates from the question.

    ``shown`` is the range the chat last put into the fields from a question. Fields still
    holding it are not the user's (the next question reads its own dates); fields the user
    emptied mean "not by date" for this question; anything else is the user's, and wins.
    """
    fields = ((date_from or "").strip(), (date_to or "").strip())
    if shown and fields == tuple(shown):
        return "", "", True
    if shown and fields == ("", ""):
        return "", "", False
    return fields[0], fields[1], True


def _dates_kept() -> tuple[dict, ...]:
    """Updates for (date from, date to, shown range, filters box) that leave them as they are."""
    return gr.skip(), gr.skip(), gr.skip(), gr.skip()


def _dates_shown(answer: Answer | None, chat_filled: bool) -> tuple[object, ...]:
    """The filter fields after ``answer``: the range read from its question, or emptied when they held
    an earlier question's range (``chat_filled``), or left as the user set them."""
    if answer is not None and answer.dates and answer.dates.applied:
        start, end = answer.dates.range.iso
        return start, end, [start, end], gr.Accordion(open=True)
    if chat_filled:
        return "", "", None, gr.skip()
    return gr.skip(), gr.skip(), None, gr.skip()


class ChatHandlers:
    """The chat's event handlers (respond, stop, new chat, viewer) and the state they share.

    ``runs`` maps a browser session to the answer being generated for it: Stop and
    "new chat" run outside the queue, in other threads, and reach the generation
    only through its ``Run``. ``_lock`` guards ``runs``; the LLM itself is serialized
    by the answerer's own lock.
    """

    def __init__(self, assistant) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.s = strings(self.settings.ui.language)
        self.runs: dict[str, Run] = {}
        self._lock = threading.Lock()

    def respond(self, question, messages, turns, date_from, date_to, paths, shown_dates, request: gr.Request):
        """Stream one answer; ``turns`` (the finished exchanges) lets follow-ups be rewritten.

        Dates in the question narrow the search unless the user set a date range (``user_dates``);
        the range read is then shown in the date fields. Yields (question box, chat, sources,
        messages, turns, Ask, Stop, date from, date to, shown range, filters box).
        """
        s = self.s
        question = (question or "").strip()
        if not question:
            gr.Warning(s["enter_question"])
            yield gr.skip(), gr.skip(), gr.skip(), messages, turns, *_buttons(busy=False), *_dates_kept()
            return
        date_from, date_to, read_dates = user_dates(date_from, date_to, shown_dates)
        try:
            filters = RetrievalFilter.build(date_from, date_to, paths or ())
        except FilterError as exc:
            text = s[f"bad_{exc.field}"].format(value=exc.value)
            gr.Warning(text)
            error = render.filter_error_html(text)
            yield gr.skip(), gr.skip(), error, messages, turns, *_buttons(busy=False), *_dates_kept()
            return
        session = _session(request)
        run = self._begin(session)
        key = uuid.uuid4().hex
        done = messages + [render.user_message(question, s)]
        yield (
            "",
            render.chat_html(done + [render.thinking_message(key, s)], s),
            render.sources_html(None, filters, s),
            messages,
            turns,
            *_buttons(busy=True),
            *_dates_kept(),
        )
        shown: Answer | None = None  # the answer whose sources are listed (none after an error)
        try:
            final = yield from self._stream(question, turns, filters, read_dates, run, key, done, messages)
            if run.cleared:
                return
            done.append(render.answer_message(final, s, stopped=run.stop.is_set()))
            turns = turns + [Turn(question, final.text)]
            shown = final
        except LitopysError as exc:
            done.append(render.error_message(s["error"].format(error=exc), s))
        except Exception:  # keep the chat alive; the log has the traceback
            log.exception("answering failed")
            done.append(render.error_message(s["failed"], s))
        finally:
            self._end(session, run)
        if not run.cleared:
            used = shown.dates.narrow(filters) if shown and shown.dates else filters
            sources = render.sources_html(shown, used, s)
            dates = _dates_shown(shown, chat_filled=bool(shown_dates) and read_dates and not date_from + date_to)
            yield gr.skip(), render.chat_html(done, s), sources, done, turns, *_buttons(busy=False), *dates

    def _stream(self, question, turns, filters, read_dates: bool, run: Run, key: str, done: list[str], messages):
        """Yield the chat view as pieces arrive; return the final Answer (None when the chat was cleared)."""
        s = self.s
        streamed = ""
        final = None
        stream = self.assistant.answerer.stream(question, turns, stop=run.stop, filters=filters, read_dates=read_dates)
        with contextlib.closing(stream) as events:
            for event in events:
                if run.cleared:
                    return None
                if isinstance(event, Delta):
                    streamed += event.text
                    view = render.chat_html(done + [render.streaming_message(streamed, key, s)], s)
                    yield gr.skip(), view, gr.skip(), messages, turns, *_buttons(busy=True), *_dates_kept()
                elif isinstance(event, Answer):
                    final = event
        return final

    def _begin(self, session: str) -> Run:
        with self._lock:
            run = self.runs[session] = Run()
        return run

    def _end(self, session: str, run: Run) -> None:
        with self._lock:
            if self.runs.get(session) is run:
                del self.runs[session]

    def stop(self, request: gr.Request) -> None:
        """Stop this session's answer after the current token (the text so far is kept)."""
        with self._lock:
            run = self.runs.get(_session(request))
        if run is not None:
            run.stop.set()

    def new_chat(self, request: gr.Request):
        """Drop this session's answer in progress and empty the chat, sources and viewer."""
        with self._lock:
            run = self.runs.get(_session(request))
        if run is not None:
            run.cleared = True
            run.stop.set()
        s = self.s
        return (
            render.chat_html([], s),
            render.sources_html(None, None, s),
            render.viewer_html(None, None, s),
            "",
            [],
            [],
            *_buttons(busy=False),
        )

    def open_viewer(self, raw: str) -> str:
        """The article a clicked ``[n]`` or source card points to, its passage highlighted."""
        target = render.Target.parse(raw or "")
        article = None
        if target is not None:
            try:
                article = indexed_article(self.settings, target.article_id)
            except LitopysError as exc:
                log.warning("viewer: %s", exc)
        return render.viewer_html(article, target, self.s)

    def refresh_paths(self):
        """The filter's choices, re-read so articles added in the library tab show up."""
        return gr.Dropdown(choices=path_choices(self.settings))


@dataclass
class ChatView:
    """The chat tab's components that events read or update."""

    chat: gr.HTML
    question: gr.Textbox
    ask: gr.Button
    stop: gr.Button
    clear: gr.Button
    filters_box: gr.Accordion
    date_from: gr.Textbox
    date_to: gr.Textbox
    paths: gr.Dropdown
    viewer: gr.HTML
    sources: gr.HTML
    target: gr.Textbox
    open: gr.Button


def _chat_tab(s: dict[str, str], settings: Settings) -> ChatView:
    """Lay out the chat tab: the conversation and question on the left, the viewer and sources on the right."""
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=340):
            chat = gr.HTML(render.chat_html([], s), elem_id="lt-chat")
            question = gr.Textbox(
                label=s["question"],
                placeholder=s["placeholder"],
                elem_id="lt-question",
                autofocus=True,
                max_lines=4,
            )
            with gr.Row():
                ask = gr.Button(s["ask"], variant="primary", elem_id="lt-ask", min_width=100)
                stop = gr.Button(s["stop"], variant="stop", elem_id="lt-stop", interactive=False, min_width=100)
                clear = gr.Button(s["new_chat"], elem_id="lt-clear", min_width=100)
            with gr.Accordion(s["filters"], open=False, elem_id="lt-filters") as filters_box:
                with gr.Row():
                    date_from = gr.Textbox(
                        label=s["date_from"],
                        placeholder="2024-01-01",
                        max_lines=1,
                        elem_id="lt-date-from",
                        min_width=140,
                    )
                    date_to = gr.Textbox(
                        label=s["date_to"], placeholder="2025-12-31", max_lines=1, elem_id="lt-date-to", min_width=140
                    )
                paths = gr.Dropdown(
                    choices=path_choices(settings),
                    multiselect=True,
                    allow_custom_value=True,
                    label=s["paths"],
                    info=s["paths_info"],
                    elem_id="lt-paths",
                )
        with gr.Column(scale=2, min_width=340):
            gr.Markdown(f"### {s['viewer']}")
            viewer = gr.HTML(render.viewer_html(None, None, s), elem_id="lt-viewer")
            gr.Markdown(f"### {s['sources']}")
            sources = gr.HTML(render.sources_html(None, None, s), elem_id="lt-sources")
    # Hidden: the page's JS puts the clicked target here and presses the button.
    target = gr.Textbox(visible="hidden", elem_id="lt-target")
    open_btn = gr.Button("open", visible="hidden", elem_id="lt-open")
    return ChatView(
        chat, question, ask, stop, clear, filters_box, date_from, date_to, paths, viewer, sources, target, open_btn
    )


def _wire(view: ChatView, handlers: ChatHandlers, concurrency_limit: int) -> None:
    """Connect the chat's events to the handlers."""
    messages = gr.State([])
    turns = gr.State([])
    shown_dates = gr.State(None)  # the range the chat last put into the date fields from a question
    for trigger in (view.ask.click, view.question.submit):
        trigger(
            handlers.respond,
            [view.question, messages, turns, view.date_from, view.date_to, view.paths, shown_dates],
            [
                *(view.question, view.chat, view.sources, messages, turns, view.ask, view.stop),
                *(view.date_from, view.date_to, shown_dates, view.filters_box),
            ],
            concurrency_id="llm",
            concurrency_limit=concurrency_limit,
            show_progress="hidden",
        )
    view.stop.click(handlers.stop, None, None, queue=False)
    view.clear.click(
        handlers.new_chat,
        None,
        [view.chat, view.sources, view.viewer, view.question, messages, turns, view.ask, view.stop],
        queue=False,
    )
    view.open.click(
        handlers.open_viewer,
        [view.target],
        [view.viewer],
        js="() => window.__ltTarget || ''",
        queue=False,
        show_progress="hidden",
    ).then(None, js=SCROLL_JS)
    view.filters_box.expand(handlers.refresh_paths, None, view.paths, queue=False)


def build_app(assistant) -> gr.Blocks:
    """The chat UI bound to a ready assistant."""
    handlers = ChatHandlers(assistant)
    s = handlers.s
    with gr.Blocks(title=s["title"]) as app:
        gr.Markdown(f"## {s['title']}\n{s['intro']}")
        with gr.Tabs():
            with gr.Tab(s["tab_chat"], id="chat"):
                view = _chat_tab(s, assistant.settings)
            with gr.Tab(s["tab_library"], id="library", elem_id="lt-library-tab"):
                build_library_tab(assistant, s)
        _wire(view, handlers, assistant.settings.server.concurrency_limit)
        app.load(None, js=PAGE_JS)
    return app
