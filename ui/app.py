"""The Gradio chat: ask, watch the answer stream, click a citation to read it in its article.

All HTML comes from ui/render.py, which escapes every string from articles,
users or the model (no Markdown is rendered). The little JavaScript here only
routes clicks on ``[n]`` markers and source cards to the viewer, counts the
seconds while the model thinks, copies answers and keeps the chat scrolled.

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

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402  (the analytics switch must be set before import)

from litopys.index.reader import indexed_article, list_articles  # noqa: E402
from litopys.core.errors import FilterError, LitopysError  # noqa: E402
from litopys.rag.answer import Answer, Delta  # noqa: E402
from litopys.rag.followup import Turn  # noqa: E402
from litopys.rag.retrieval import RetrievalFilter  # noqa: E402
from litopys.ui import render  # noqa: E402
from litopys.ui.library import build_library_tab  # noqa: E402
from litopys.ui.strings import strings  # noqa: E402

log = logging.getLogger(__name__)

CSS = """
:root, .gradio-container {
  --font: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", Ubuntu, "Helvetica Neue", Arial, sans-serif;
}
.gradio-container { font-family: var(--font); line-height: 1.55; font-kerning: normal; hyphens: auto; }
#lt-chat .lt-log { max-height: 58vh; overflow-y: auto; padding: 4px 2px; font-size: 16px; }
.lt-msg { margin: 10px 0; padding: 10px 14px; border-radius: 12px; max-width: 100%; overflow-wrap: anywhere; }
.lt-msg.user { background: var(--color-accent-soft); margin-left: 12%; }
.lt-msg.bot { background: var(--background-fill-secondary); border: 1px solid var(--border-color-primary); margin-right: 4%; }
.lt-role { font-size: 12px; font-weight: 600; letter-spacing: .02em; color: var(--body-text-color-subdued); margin-bottom: 2px; }
.lt-body { white-space: pre-wrap; }
.lt-cite { display: inline; border: 0; padding: 0 2px; margin: 0 1px; border-radius: 4px; cursor: pointer;
  font: inherit; font-size: .85em; font-weight: 600; color: var(--color-accent); background: var(--color-accent-soft);
  vertical-align: baseline; }
.lt-cite:hover, .lt-cite:focus-visible { text-decoration: underline; outline: 2px solid var(--color-accent); }
.lt-cite.pending { cursor: default; color: var(--body-text-color-subdued); }
.lt-thinking { color: var(--body-text-color-subdued); font-size: 14px; margin-top: 4px; }
.lt-spinner { display: inline-block; width: .8em; height: .8em; margin-right: .5em; border-radius: 50%;
  border: 2px solid var(--color-accent); border-right-color: transparent; animation: lt-spin 1s linear infinite; }
@keyframes lt-spin { to { transform: rotate(360deg); } }
.lt-note, .lt-took { color: var(--body-text-color-subdued); font-size: 13px; }
.lt-warn { color: var(--error-text-color); font-size: 14px; margin-top: 6px; }
.lt-refs { margin-top: 8px; font-size: 14px; }
.lt-refs ul { list-style: none; padding-left: 0; margin: 4px 0; }
.lt-refs li { margin: 6px 0; }
.lt-quote { white-space: pre-wrap; color: var(--body-text-color-subdued); margin-left: 1.2em; }
.lt-tools { margin-top: 6px; display: flex; gap: 12px; align-items: center; }
.lt-copy { font: inherit; font-size: 13px; padding: 2px 10px; border-radius: 6px; cursor: pointer;
  border: 1px solid var(--border-color-primary); background: var(--background-fill-primary); }
.lt-sources { font-size: 15px; line-height: 1.5; }
.lt-card { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 10px 12px; margin: 8px 0; cursor: pointer; }
.lt-card:hover, .lt-card:focus-visible { border-color: var(--color-accent); outline: none; }
.lt-card.cited { border-left: 4px solid var(--color-accent); }
.lt-card.open { box-shadow: 0 0 0 2px var(--color-accent); }
.lt-head { font-weight: 600; }
.lt-meta { color: var(--body-text-color-subdued); font-size: 13px; overflow-wrap: anywhere; }
.lt-text { white-space: pre-wrap; margin-top: 6px; max-height: 9.5em; overflow: hidden; }
.lt-filter { font-size: 13px; color: var(--body-text-color-subdued); margin: 0 0 6px; }
.lt-filter.active { color: var(--color-accent); font-weight: 600; }
.lt-empty { color: var(--body-text-color-subdued); }
.lt-rewritten, .lt-grounding { color: var(--body-text-color-subdued); font-size: 14px; }
#lt-viewer .lt-article-title { margin: 0 0 2px; font-size: 18px; line-height: 1.35; }
#lt-viewer .lt-article-body { position: relative; white-space: pre-wrap; max-height: 44vh; overflow-y: auto;
  margin-top: 8px; padding-right: 6px; font-size: 16px; line-height: 1.6; }
mark.lt-hit { background: #ffe27a; color: #1b1b1b; border-radius: 3px; padding: 1px 0; }
#lt-target, #lt-open { display: none !important; }
.lt-status th { text-align: left; padding-right: 12px; font-weight: 600; }
.lt-rejected, .lt-error { color: var(--error-text-color); }
@media (max-width: 640px) {
  .lt-msg.user { margin-left: 6%; }
  #lt-chat .lt-log { max-height: 55vh; font-size: 15px; }
  #lt-viewer .lt-article-body { max-height: 60vh; }
}
"""

# Installed once per page: click routing, the seconds counter, copying, chat autoscroll.
PAGE_JS = """
() => {
  if (window.__ltReady) return;
  window.__ltReady = true;
  const started = {};
  setInterval(() => {
    for (const el of document.querySelectorAll('.lt-elapsed')) {
      const key = el.dataset.key;
      started[key] = started[key] || Date.now();
      const s = String(Math.floor((Date.now() - started[key]) / 1000));
      if (el.textContent !== s) el.textContent = s;
    }
  }, 250);
  const copy = async (button) => {
    const text = button.closest('.lt-msg').querySelector('.lt-answer-text').innerText;
    try { await navigator.clipboard.writeText(text); } catch (err) {
      const area = document.createElement('textarea');
      area.value = text; document.body.appendChild(area); area.select();
      document.execCommand('copy'); area.remove();
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied;
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  document.addEventListener('click', (event) => {
    const button = event.target.closest('.lt-copy');
    if (button) { copy(button); return; }
    const link = event.target.closest('#lt-chat [data-target], #lt-sources [data-target]');
    if (!link) return;
    event.preventDefault();
    window.__ltTarget = link.dataset.target;
    for (const card of document.querySelectorAll('#lt-sources .lt-card.open')) card.classList.remove('open');
    const card = document.querySelector('#lt-sources .lt-card[data-n="' + JSON.parse(link.dataset.target).n + '"]');
    if (card) card.classList.add('open');
    document.querySelector('#lt-open').click();
  });
  document.addEventListener('keydown', (event) => {
    if ((event.key === 'Enter' || event.key === ' ') && event.target.matches('.lt-card[data-target]')) {
      event.preventDefault();
      event.target.click();
    }
  });
  new MutationObserver((mutations) => {
    const changed = mutations.some((m) => m.target.nodeType === 1 && m.target.closest('#lt-chat')
      && !m.target.closest('.lt-elapsed'));
    const box = changed && document.querySelector('#lt-chat .lt-log');
    if (box) box.scrollTop = box.scrollHeight;
  }).observe(document.body, { childList: true, subtree: true });
}
"""

# After the viewer is filled: bring the highlighted span into view (inside the article and on the page).
SCROLL_JS = """
() => {
  const until = Date.now() + 5000;
  const tick = () => {
    const article = document.querySelector('#lt-viewer .lt-article');
    const hit = article && article.dataset.key === window.__ltTarget && article.querySelector('mark.lt-hit');
    if (hit) {
      // Centre the span inside the article box, then move the page only as far as needed.
      const box = article.querySelector('.lt-article-body');
      box.scrollTop = Math.max(0, hit.offsetTop - box.clientHeight / 3);
      hit.scrollIntoView({ block: 'nearest', behavior: 'instant' });
      return;
    }
    if (Date.now() < until) requestAnimationFrame(tick);
  };
  tick();
}
"""


@dataclass
class Run:
    """One answer being generated for a browser session."""

    stop: threading.Event = field(default_factory=threading.Event)
    cleared: bool = False  # "new chat" pressed meanwhile: drop the rest of this answer


def path_choices(index_dir) -> list[tuple[str, str]]:
    """Filter choices: every folder (``name/``) and every article of the index."""
    articles = list_articles(index_dir)
    folders = sorted({aid.rsplit("/", i)[0] + "/" for aid, _, _ in articles for i in range(1, aid.count("/") + 1)})
    return [(f"{f} 📁", f) for f in folders] + [(f"{aid} — {title}", aid) for aid, title, _ in articles]


def build_app(assistant) -> gr.Blocks:
    """The chat UI bound to a ready assistant."""
    settings = assistant.settings
    s = strings(settings.ui.language)
    runs: dict[str, Run] = {}

    def respond(question, messages, turns, date_from, date_to, paths, request: gr.Request):
        """Stream one answer; ``turns`` (the finished exchanges) lets follow-ups be rewritten."""
        question = (question or "").strip()
        # (Ask, Stop): only one of them is usable at a time.
        busy = (gr.Button(interactive=False), gr.Button(interactive=True))
        ready = (gr.Button(interactive=True), gr.Button(interactive=False))
        if not question:
            gr.Warning(s["enter_question"])
            yield gr.skip(), gr.skip(), gr.skip(), messages, turns, *ready
            return
        try:
            filters = RetrievalFilter.build(date_from, date_to, paths or ())
        except FilterError as exc:
            text = s[f"bad_{exc.field}"].format(value=exc.value)
            gr.Warning(text)
            yield gr.skip(), gr.skip(), render.filter_error_html(text), messages, turns, *ready
            return
        session = request.session_hash if request else ""
        run = runs[session] = Run()
        key = uuid.uuid4().hex
        done = messages + [render.user_message(question, s)]
        yield ("", render.chat_html(done + [render.thinking_message(key, s)], s),
               render.sources_html(None, filters, s), messages, turns, *busy)
        streamed = ""
        final = None
        try:
            stream = assistant.answerer.stream(question, turns, stop=run.stop, filters=filters)
            with contextlib.closing(stream) as events:
                for event in events:
                    if run.cleared:
                        return
                    if isinstance(event, Delta):
                        streamed += event.text
                        view = render.chat_html(done + [render.streaming_message(streamed, key, s)], s)
                        yield gr.skip(), view, gr.skip(), messages, turns, *busy
                    elif isinstance(event, Answer):
                        final = event
            done.append(render.answer_message(final, s, stopped=run.stop.is_set()))
            turns = turns + [Turn(question, final.text)]
            sources = render.sources_html(final, filters, s)
        except LitopysError as exc:
            done.append(render.error_message(s["error"].format(error=exc), s))
            sources = render.sources_html(None, filters, s)
        except Exception:  # keep the chat alive; the log has the traceback
            log.exception("answering failed")
            done.append(render.error_message(s["failed"], s))
            sources = render.sources_html(None, filters, s)
        finally:
            if runs.get(session) is run:
                del runs[session]
        if not run.cleared:
            yield gr.skip(), render.chat_html(done, s), sources, done, turns, *ready

    def stop(request: gr.Request):
        run = runs.get(request.session_hash if request else "")
        if run is not None:
            run.stop.set()

    def new_chat(request: gr.Request):
        run = runs.get(request.session_hash if request else "")
        if run is not None:
            run.cleared = True
            run.stop.set()
        return (render.chat_html([], s), render.sources_html(None, None, s), render.viewer_html(None, None, s),
                "", [], [], gr.Button(interactive=True), gr.Button(interactive=False))

    def open_viewer(raw: str):
        target = render.Target.parse(raw or "")
        article = None
        if target is not None:
            try:
                article = indexed_article(settings.index_dir, target.article_id)
            except LitopysError as exc:
                log.warning("viewer: %s", exc)
        return render.viewer_html(article, target, s)

    def refresh_paths():
        return gr.Dropdown(choices=path_choices(settings.index_dir))

    with gr.Blocks(title=s["title"]) as app:
        gr.Markdown(f"## {s['title']}\n{s['intro']}")
        with gr.Tabs():
            with gr.Tab(s["tab_chat"], id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3, min_width=340):
                        chat = gr.HTML(render.chat_html([], s), elem_id="lt-chat")
                        question = gr.Textbox(
                            label=s["question"], placeholder=s["placeholder"], elem_id="lt-question",
                            autofocus=True, max_lines=4,
                        )
                        with gr.Row():
                            ask = gr.Button(s["ask"], variant="primary", elem_id="lt-ask", min_width=100)
                            stop_btn = gr.Button(
                                s["stop"], variant="stop", elem_id="lt-stop", interactive=False, min_width=100
                            )
                            clear = gr.Button(s["new_chat"], elem_id="lt-clear", min_width=100)
                        with gr.Accordion(s["filters"], open=False, elem_id="lt-filters") as filters_box:
                            with gr.Row():
                                date_from = gr.Textbox(label=s["date_from"], placeholder="2024-01-01", max_lines=1,
                                                       elem_id="lt-date-from", min_width=140)
                                date_to = gr.Textbox(label=s["date_to"], placeholder="2025-12-31", max_lines=1,
                                                     elem_id="lt-date-to", min_width=140)
                            paths = gr.Dropdown(
                                choices=path_choices(settings.index_dir), multiselect=True, allow_custom_value=True,
                                label=s["paths"], info=s["paths_info"], elem_id="lt-paths",
                            )
                    with gr.Column(scale=2, min_width=340):
                        gr.Markdown(f"### {s['viewer']}")
                        viewer = gr.HTML(render.viewer_html(None, None, s), elem_id="lt-viewer")
                        gr.Markdown(f"### {s['sources']}")
                        sources = gr.HTML(render.sources_html(None, None, s), elem_id="lt-sources")
                target = gr.Textbox(visible="hidden", elem_id="lt-target")
                open_btn = gr.Button("open", visible="hidden", elem_id="lt-open")
            with gr.Tab(s["tab_library"], id="library", elem_id="lt-library-tab"):
                build_library_tab(assistant, s)
        messages = gr.State([])
        turns = gr.State([])
        for trigger in (ask.click, question.submit):
            trigger(
                respond, [question, messages, turns, date_from, date_to, paths],
                [question, chat, sources, messages, turns, ask, stop_btn],
                concurrency_id="llm", concurrency_limit=settings.server.concurrency_limit, show_progress="hidden",
            )
        stop_btn.click(stop, None, None, queue=False)
        clear.click(new_chat, None, [chat, sources, viewer, question, messages, turns, ask, stop_btn], queue=False)
        open_btn.click(
            open_viewer, [target], [viewer], js="() => window.__ltTarget || ''", queue=False, show_progress="hidden",
        ).then(None, js=SCROLL_JS)
        filters_box.expand(refresh_paths, None, paths, queue=False)
        app.load(None, js=PAGE_JS)
    return app

