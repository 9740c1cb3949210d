"""The "Articles and index" tab: upload articles, update or rebuild the index, see its state.

Builds run in the server process with the assistant's own embedder; the
chat keeps answering from the last published index meanwhile and picks up
the new one on its next question (see index/reader.py). Every string shown
here is HTML-escaped: file names and reasons come from users. With the folder
watched (``index.watch``), the panel re-reads the last sync every few seconds.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import gradio as gr

from litopys.core.errors import LitopysError
from litopys.index.corpus import ARTICLE_SUFFIXES
from litopys.index.upload import accept_uploads
from litopys.index.watch import SyncRecord, last_sync
from litopys.runtime import index_corpus, index_status
from litopys.ui.strings import UK

log = logging.getLogger(__name__)

WATCH_REFRESH_S = 3.0  # how often a watching server's library tab re-reads the index state


def status_html(
    status: dict[str, object], s: dict[str, str] = UK, *, watching: bool = False, sync: SyncRecord | None = None
) -> str:
    """The index panel: article and chunk counts, embedder, last build time, and the folder watch."""
    e = html.escape
    watch_rows = [(s["lib_watch"], s["lib_watch_on"] if watching else s["lib_watch_off"], "lt-watch")]
    if watching or sync is not None:
        watch_rows.append((s["lib_sync"], sync_text(sync, s), "lt-last-sync"))
    watch_body = "".join(f"<tr id='{i}'><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v, i in watch_rows)
    if not status:
        return f"<div class='lt-status'>{e(s['lib_no_index'])}</div><table class='lt-status'>{watch_body}</table>"
    rows = [
        (s["lib_articles"], status.get("articles")),
        (s["lib_chunks"], status.get("chunks")),
        (s["lib_embedder"], s["lib_embedder_value"].format(**status)),
        (s["lib_built"], s["lib_built_value"].format(**status)),
        (s["lib_corpus"], status.get("corpus_dir")),
    ]
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='lt-status' id='lt-status-table'>{body}{watch_body}</table>"


def sync_text(sync: SyncRecord | None, s: dict[str, str] = UK) -> str:
    """One line on what the last sync did, and when."""
    if sync is None:
        return s["lib_sync_none"]
    if sync.error:
        return s["lib_sync_error"].format(finished_at=sync.finished_at, error=sync.error)
    return s["lib_sync_value"].format(**vars(sync))


def report_html(report=None, upload=None, error: str | None = None, s: dict[str, str] = UK) -> str:
    """What an upload and/or index run did, with every rejected or skipped file and its reason."""
    e = html.escape
    parts = ["<div class='lt-report'>"]
    if error:
        parts.append(f"<p class='lt-error'>{e(s['lib_error'].format(error=error))}</p>")
    if upload is not None:
        if upload.saved:
            parts.append(f"<p>{e(s['lib_saved'].format(n=len(upload.saved)))}</p><ul>")
            parts += [f"<li class='lt-saved'>{e(name)}</li>" for name in upload.saved]
            parts.append("</ul>")
        if upload.unchanged:
            parts.append(f"<p>{e(s['lib_unchanged'].format(names=', '.join(upload.unchanged)))}</p>")
        if upload.rejected:
            parts.append(f"<p>{e(s['lib_rejected'].format(n=len(upload.rejected)))}</p><ul>")
            parts += [f"<li class='lt-rejected'><b>{e(i.path)}</b>: {e(i.reason)}</li>" for i in upload.rejected]
            parts.append("</ul>")
    if report is not None:
        if report.full_rebuild_reason:
            parts.append(f"<p>{e(s['lib_full_reason'].format(reason=report.full_rebuild_reason))}</p>")
        counts = s["lib_counts"].format(
            added=report.added,
            updated=report.updated,
            removed=report.removed,
            unchanged=report.unchanged,
            skipped=report.skipped,
            embedded=report.chunks_embedded,
            seconds=report.seconds,
        )
        parts.append(f"<p class='lt-counts'>{e(counts)}</p>")
        if report.issues:
            parts.append("<ul>")
            parts += [
                f"<li class='lt-issue'><b>{e(i.path)}</b>: {e(s['lib_skipped']) if i.skipped else ''}{e(i.reason)}</li>"
                for i in report.issues
            ]
            parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


class LibraryHandlers:
    """The library tab's event handlers: save uploads and index them, rebuild the index, show its state.

    Builds use the assistant's own embedder. Uploads and rebuilds share one queue
    group (``"index"``, one at a time): a second build waits in the queue instead of
    failing on the index's single-writer lock.
    """

    def __init__(self, assistant, s: dict[str, str] = UK) -> None:
        self.assistant = assistant
        self.settings = assistant.settings
        self.s = s
        self.stages = {"chunking": s["lib_stage_chunking"], "embedding": s["lib_stage_embedding"]}

    def _index(self, force: bool, progress: gr.Progress):
        def update(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=self.stages.get(stage, stage))

        progress(0, desc=self.s["lib_reading"])
        report = index_corpus(self.settings, self.assistant.embedder, force_rebuild=force, progress=update)
        log.info("index updated from the UI: %s", report.as_dict())
        return report

    def status(self) -> str:
        """The index panel as it is now."""
        watching = self.settings.watch.enabled
        return status_html(
            index_status(self.settings), self.s, watching=watching, sync=last_sync(Path(self.settings.index_dir))
        )

    def upload(self, files: list[str] | None, progress=gr.Progress()):
        """Save the uploaded files into the corpus folder and index them; (report, status) panels."""
        s, settings = self.s, self.settings
        if not files:
            gr.Warning(s["lib_pick_files"])
            return gr.skip(), gr.skip()
        result = accept_uploads(
            Path(settings.corpus_dir),
            [Path(f) for f in files],
            settings.max_file_bytes,
            settings.server.max_upload_files,
            settings.exports,
        )
        report, error = None, None
        if result.saved:
            try:
                report = self._index(False, progress)
            except LitopysError as exc:
                error = s["lib_saved_index_later"].format(error=exc)
        return report_html(report, result, error, s), self.status()

    def reindex(self, force: bool, progress=gr.Progress()):
        """Update the index from the corpus folder (``force``: rebuild it); (report, status) panels."""
        try:
            report = self._index(force, progress)
        except LitopysError as exc:
            return report_html(error=str(exc), s=self.s), self.status()
        return report_html(report, s=self.s), self.status()


def build_library_tab(assistant, s: dict[str, str] = UK) -> None:
    """Add the upload / index controls (labels from ``s``) to the current Blocks context."""
    handlers = LibraryHandlers(assistant, s)
    gr.Markdown(s["lib_intro"].format(folder=assistant.settings.corpus_dir))
    with gr.Row():
        with gr.Column(scale=3):
            files = gr.File(
                label=s["lib_files"],
                file_count="multiple",
                file_types=list(ARTICLE_SUFFIXES),
                type="filepath",
                elem_id="lt-upload",
            )
            add = gr.Button(s["lib_add"], variant="primary", elem_id="lt-add")
            with gr.Row():
                full = gr.Checkbox(label=s["lib_full"], value=False, elem_id="lt-full")
                rebuild = gr.Button(s["lib_reindex"], elem_id="lt-reindex")
            report = gr.HTML("", elem_id="lt-index-report")
        with gr.Column(scale=2):
            gr.Markdown(f"### {s['lib_index']}")
            status = gr.HTML(handlers.status(), elem_id="lt-index-status")
            refresh = gr.Button(s["lib_refresh"], size="sm", elem_id="lt-status-refresh")
    add.click(handlers.upload, [files], [report, status], concurrency_id="index", concurrency_limit=1)
    rebuild.click(handlers.reindex, [full], [report, status], concurrency_id="index", concurrency_limit=1)
    refresh.click(handlers.status, None, status, queue=False)
    if assistant.settings.watch.enabled:
        # The watcher syncs in the background: the panel follows it without a click.
        gr.Timer(WATCH_REFRESH_S).tick(handlers.status, None, status, queue=False)
