"""The "Articles and index" tab: upload articles, update or rebuild the index, see its state.

Builds run in the server process with the assistant's own embedder; the
chat keeps answering from the last published index meanwhile and picks up
the new one on its next question (see index/reader.py). Every string shown
here is HTML-escaped: file names and reasons come from users.
"""

from __future__ import annotations

import html
import logging
from pathlib import Path

import gradio as gr

from index.upload import accept_uploads
from litopys.errors import LitopysError
from litopys.runtime import index_corpus, index_status

log = logging.getLogger(__name__)

STAGES = {"chunking": "Розбиття на фрагменти", "embedding": "Обчислення векторів"}


def status_html(status: dict[str, object]) -> str:
    """The index panel: article and chunk counts, embedder, last build time."""
    if not status:
        return "<div class='lt-status'>Індексу ще немає: додайте статті або оновіть індекс.</div>"
    e = html.escape
    rows = [
        ("Статей", status.get("articles")),
        ("Фрагментів", status.get("chunks")),
        ("Модель векторів", f"{status.get('embedder')} ({status.get('dim')}-вимірна)"),
        ("Остання побудова", f"{status.get('built_at')} (UTC), покоління {status.get('generation')}"),
        ("Тека статей", status.get("corpus_dir")),
    ]
    body = "".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in rows)
    return f"<table class='lt-status' id='lt-status-table'>{body}</table>"


def report_html(report=None, upload=None, error: str | None = None) -> str:
    """What an upload and/or index run did, with every rejected or skipped file and its reason."""
    e = html.escape
    parts = ["<div class='lt-report'>"]
    if error:
        parts.append(f"<p class='lt-error'>Помилка: {e(error)}</p>")
    if upload is not None:
        if upload.saved:
            parts.append(f"<p>Збережено у теку статей: {len(upload.saved)}</p><ul>")
            parts += [f"<li class='lt-saved'>{e(name)}</li>" for name in upload.saved]
            parts.append("</ul>")
        if upload.unchanged:
            parts.append(f"<p>Вже є в теці (той самий вміст): {e(', '.join(upload.unchanged))}</p>")
        if upload.rejected:
            parts.append(f"<p>Відхилено: {len(upload.rejected)}</p><ul>")
            parts += [
                f"<li class='lt-rejected'><b>{e(i.path)}</b>: {e(i.reason)}</li>" for i in upload.rejected
            ]
            parts.append("</ul>")
    if report is not None:
        if report.full_rebuild_reason:
            parts.append(f"<p>Повна перебудова: {e(report.full_rebuild_reason)}</p>")
        parts.append(
            f"<p class='lt-counts'>Додано {report.added}, оновлено {report.updated}, вилучено {report.removed}, "
            f"без змін {report.unchanged}, пропущено {report.skipped}; обчислено векторів: {report.chunks_embedded} "
            f"— за {report.seconds:.1f} с</p>"
        )
        if report.issues:
            parts.append("<ul>")
            parts += [
                f"<li class='lt-issue'><b>{e(i.path)}</b>: {'пропущено, ' if i.skipped else ''}{e(i.reason)}</li>"
                for i in report.issues
            ]
            parts.append("</ul>")
    parts.append("</div>")
    return "".join(parts)


def build_library_tab(assistant) -> None:
    """Add the upload / index controls to the current Blocks context."""
    settings = assistant.settings

    def run_index(force: bool, progress: gr.Progress):
        def update(stage: str, done: int, total: int) -> None:
            progress((done, total), desc=STAGES.get(stage, stage))

        progress(0, desc="Читання теки статей")
        report = index_corpus(settings, assistant.embedder, force_rebuild=force, progress=update)
        log.info("index updated from the UI: %s", report.as_dict())
        return report

    def upload(files: list[str] | None, progress=gr.Progress()):
        if not files:
            gr.Warning("Оберіть файли статей (.txt або .md).")
            return gr.skip(), gr.skip()
        result = accept_uploads(
            Path(settings.corpus_dir), [Path(f) for f in files], settings.max_file_bytes,
            settings.server.max_upload_files,
        )
        report, error = None, None
        if result.saved:
            try:
                report = run_index(False, progress)
            except LitopysError as exc:
                error = f"{exc}. Файли збережено; оновіть індекс пізніше."
        return report_html(report, result, error), status_html(index_status(settings))

    def reindex(force: bool, progress=gr.Progress()):
        try:
            report = run_index(force, progress)
        except LitopysError as exc:
            return report_html(error=str(exc)), status_html(index_status(settings))
        return report_html(report), status_html(index_status(settings))

    gr.Markdown(
        "Додайте статті (UTF-8 `.txt` або `.md`, перший рядок — заголовок, за бажанням "
        "`date РРРР-ММ-ДД заголовок`). Файли перевіряються, зберігаються в теці статей "
        f"(`{settings.corpus_dir}`/uploads) і одразу індексуються; чат відповідає далі з попереднього індексу, "
        "доки новий не готовий."
    )
    with gr.Row():
        with gr.Column(scale=3):
            files = gr.File(
                label="Статті", file_count="multiple", file_types=[".txt", ".md"], type="filepath",
                elem_id="lt-upload",
            )
            add = gr.Button("Додати й проіндексувати", variant="primary", elem_id="lt-add")
            with gr.Row():
                full = gr.Checkbox(label="Перебудувати повністю (усі вектори заново)", value=False, elem_id="lt-full")
                rebuild = gr.Button("Оновити індекс", elem_id="lt-reindex")
            report = gr.HTML("", elem_id="lt-index-report")
        with gr.Column(scale=2):
            gr.Markdown("### Індекс")
            status = gr.HTML(status_html(index_status(settings)), elem_id="lt-index-status")
            refresh = gr.Button("Оновити відомості", size="sm", elem_id="lt-status-refresh")
    add.click(upload, [files], [report, status], concurrency_id="index", concurrency_limit=1)
    rebuild.click(reindex, [full], [report, status], concurrency_id="index", concurrency_limit=1)
    refresh.click(lambda: status_html(index_status(settings)), None, status, queue=False)
