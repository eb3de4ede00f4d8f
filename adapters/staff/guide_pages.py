"""The dashboard's Guide page as HTML: pure functions, values in, text out.

The page runs no script: while a preview, publish or roll-back runs, it reloads itself every few
seconds with `<meta http-equiv="refresh">`, which the strict Content-Security-Policy allows. Each
section's editor is a form whose id is the section's slug, so `/staff/guide?edit=<document>#<section>`
(the link the Unanswered page gives) opens the document's editors scrolled to that section.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from adapters.staff.pages import _page
from bot.staff.guide import GuideDocument, Job, KeptVersion, SectionUse
from bot.staff.preview import KINDS, Preview, QuestionChange

REFRESH_SECONDS = 3
ROWS_PER_KIND = 100
"""Questions shown per kind of change; the JSON (`/staff/api/guide/preview`) has them all."""


def _refreshing(html: str, seconds: int) -> str:
    """The page with a `<meta http-equiv="refresh">` in its head (`_page` draws the frame)."""
    return html.replace('<meta charset="utf-8">', f'<meta charset="utf-8"><meta http-equiv="refresh" content="{seconds}">', 1)


def _hidden(**fields: str) -> str:
    return "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in fields.items())


def _button_form(action: str, label: str, csrf: str, *, more: str = "", **fields: str) -> str:
    """A one-button form; `more` is read by screen readers only, telling apart buttons of the same name."""
    hidden = f'<span class="visually-hidden"> {escape(more)}</span>' if more else ""
    return f'<form class="inline" method="post" action="{action}">{_hidden(csrf=csrf, **fields)}<button type="submit">{escape(label)}{hidden}</button></form>'


def _job_section(job: Job | None) -> str:
    if job is None:
        return ""
    if not job.finished:
        counted = f" ({job.done} of {job.total} questions answered)" if job.total else ""
        return (
            '<section aria-labelledby="guide-job" class="job" role="status"><h2 id="guide-job">'
            f"{escape(job.kind.capitalize())} running</h2><p>{escape(job.document_id)}: {escape(job.what)}.</p>"
            f"<p>{escape(job.stage)}{counted}. <progress aria-label=\"Questions answered\" max=\"{max(job.total, 1)}\" value=\"{job.done}\"></progress></p>"
            f"<p>Started by {escape(job.who)}. This page refreshes itself every {REFRESH_SECONDS} seconds.</p></section>"
        )
    if job.error:
        return f'<p class="problem" role="alert">{escape(job.error)}</p>'
    if job.kind == "preview":
        return ""
    done = "Published" if job.kind == "publish" else "Rolled back"
    return f'<p class="notice" role="status">{done}: {escape(job.document_id)}, {escape(job.what)}, in {job.seconds:.0f} s. Members get the new answers now.</p>'


def _outcome(answered: bool, section: str, lead: str) -> str:
    if not answered:
        return "<em>refused</em>"
    return f'<span class="section-name">{escape(section)}</span><br>{escape(lead)}'


def _change_rows(changes: Sequence[QuestionChange]) -> str:
    return "".join(
        f'<tr><th scope="row">{escape(c.question)}</th><td>{escape(c.source)}</td>'
        f"<td>{_outcome(c.before.answered, c.before.section, c.before.lead)}</td>"
        f"<td>{_outcome(c.after.answered, c.after.section, c.after.lead)}</td></tr>"
        for c in changes[:ROWS_PER_KIND]
    )


def _preview_section(preview: Preview | None, csrf: str, busy: bool) -> str:
    if preview is None:
        return ""
    head = "".join(f'<th scope="col">{escape(kind)}</th>' for kind in KINDS)
    counts = "".join(
        f'<tr><th scope="row">{escape(source)}</th><td>{asked}</td>' + "".join(f"<td>{preview.count(kind, source)}</td>" for kind in KINDS) + "</tr>"
        for source, asked in preview.asked.items()
    )
    parts = [
        '<section aria-labelledby="guide-preview" class="preview"><h2 id="guide-preview">Preview of a change</h2>',
        f"<p><strong>{escape(preview.change.document_id)}</strong>: {escape(preview.change.what)}. Nothing is live until you publish. "
        f"Candidate index built in {preview.build_seconds:.0f} s; questions answered by both indexes in {preview.answer_seconds:.0f} s. "
        '<a href="/staff/api/guide/preview">Every changed answer as JSON</a></p>',
        '<div class="table-wrap"><table><caption>Questions whose answer would change</caption>'
        f'<thead><tr><th scope="col">Questions</th><th scope="col">asked</th>{head}</tr></thead><tbody>{counts}</tbody></table></div>',
    ]
    if not busy:
        parts.append(
            '<div class="actions">'
            + _button_form("/staff/guide/publish", "Publish this change", csrf)
            + _button_form("/staff/guide/discard", "Discard", csrf)
            + "</div>"
        )
    for kind in KINDS:
        changes = [c for c in preview.changes if c.kind == kind]
        if not changes:
            continue
        more = f" (the first {ROWS_PER_KIND} of {len(changes)})" if len(changes) > ROWS_PER_KIND else ""
        parts.append(
            f'<h3>{escape(kind.capitalize())}: {len(changes)}{more}</h3><div class="table-wrap"><table>'
            f"<caption>{escape(kind.capitalize())}</caption>"
            '<thead><tr><th scope="col">Question</th><th scope="col">From</th><th scope="col">Now</th>'
            f'<th scope="col">With the change</th></tr></thead><tbody>{_change_rows(changes)}</tbody></table></div>'
        )
    if not preview.changes:
        parts.append("<p>No answer to these questions changes.</p>")
    parts.append("</section>")
    return "".join(parts)


def _sections_table(doc: GuideDocument, uses: Sequence[SectionUse]) -> str:
    rows = "".join(
        f'<tr><th scope="row">{"&nbsp;" * 2 * max(0, u.level - 2)}{escape(u.heading or "Introduction")}</th>'
        f"<td>{u.quoted}</td><td>{u.up}</td><td>{u.down}</td>"
        + (f'<td><a href="/staff/guide?edit={quote(doc.id, safe="")}#{quote(u.slug, safe="")}">Edit<span class="visually-hidden"> {escape(u.heading or "Introduction")}</span></a></td>' if doc.editable else "<td></td>")
        + "</tr>"
        for u in uses
    )
    return (
        '<div class="table-wrap"><table><caption>Sections: answers that quoted each, and the votes on them</caption>'
        '<thead><tr><th scope="col">Section</th><th scope="col">Quoted</th><th scope="col">👍</th>'
        f'<th scope="col">👎</th><th scope="col"><span class="visually-hidden">Change</span></th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def _editors(doc: GuideDocument, texts: dict[str, str], csrf: str) -> str:
    forms = "".join(
        f'<form id="{escape(slug)}" class="editor" method="post" action="/staff/guide/preview">'
        f'{_hidden(csrf=csrf, document=doc.id, section=slug)}'
        f'<label for="text-{escape(slug)}">{escape(heading)}</label>'
        f'<textarea id="text-{escape(slug)}" name="text" rows="10">{escape(text)}</textarea>'
        '<button type="submit">Preview this change</button></form>'
        for slug, (heading, text) in ((s.slug, (s.heading or "Introduction", texts.get(s.slug, ""))) for s in doc.sections)
    )
    return f'<h3>Edit a section</h3><p>Change one section\'s text, then preview what it does to the answers.</p>{forms}'


def _upload(doc: GuideDocument, csrf: str, limit_kb: int) -> str:
    return (
        f'<form class="upload" method="post" action="/staff/guide/upload" enctype="multipart/form-data">'
        f"{_hidden(csrf=csrf, document=doc.id)}"
        f'<label for="file-{escape(doc.id)}">Upload a new version (Markdown, at most {limit_kb} KB)</label>'
        f'<input id="file-{escape(doc.id)}" type="file" name="file" accept=".md,.markdown,text/markdown" required>'
        '<button type="submit">Preview this file</button></form>'
    )


def _kept(doc: GuideDocument, kept: Sequence[KeptVersion], csrf: str, busy: bool) -> str:
    if not kept:
        return "<p>No earlier versions are kept yet: publishing a change keeps the version it replaces.</p>"
    rows = "".join(
        f'<tr><th scope="row">{escape(k.saved_at)}</th><td><code>{escape(k.hash)}</code></td>'
        f"<td>{'' if busy else _button_form('/staff/guide/rollback', 'Roll back to this version', csrf, more=f'replaced at {k.saved_at}', document=doc.id, version=k.name)}</td></tr>"
        for k in kept
    )
    return (
        '<div class="table-wrap"><table><caption>Earlier versions, newest first</caption>'
        f'<thead><tr><th scope="col">Replaced at</th><th scope="col">Content hash</th><th scope="col">Roll back</th></tr></thead><tbody>{rows}</tbody></table></div>'
    )


def guide_page(
    docs: Sequence[tuple[GuideDocument, Sequence[SectionUse], Sequence[KeptVersion]]],
    *,
    job: Job | None,
    preview: Preview | None,
    who: str,
    csrf: str,
    edit: str | None = None,
    texts: dict[str, str] | None = None,
    problem: str | None = None,
    limit_kb: int = 512,
) -> str:
    busy = job is not None and not job.finished
    parts = ["<h1>Guide</h1>"]
    if problem:
        parts.append(f'<p class="problem" role="alert">{escape(problem)}</p>')
    parts.append(_job_section(job))
    parts.append(_preview_section(preview, csrf, busy))
    for doc, uses, kept in docs:
        version = f"version {escape(doc.version)}, " if doc.version else ""
        parts.append(
            f'<section aria-labelledby="doc-{escape(doc.id)}"><h2 id="doc-{escape(doc.id)}">{escape(doc.title)}</h2>'
            f'<p class="period"><code>{escape(doc.id)}</code> · {version}content hash <code>{escape(doc.hash)}</code> · dated {escape(doc.date)} · '
            f"<code>{escape(doc.path.name)}</code></p>"
            + _sections_table(doc, uses)
            + (_editors(doc, texts or {}, csrf) if edit == doc.id and doc.editable else "")
            + _upload(doc, csrf, limit_kb)
            + "<h3>Earlier versions</h3>"
            + _kept(doc, kept, csrf, busy)
            + "</section>"
        )
    page = _page("Guide", "".join(parts), who=who, csrf=csrf)
    return _refreshing(page, REFRESH_SECONDS) if busy else page


def guide_json(docs: Sequence[tuple[GuideDocument, Sequence[SectionUse], Sequence[KeptVersion]]], job: Job | None, preview: Preview | None) -> dict[str, Any]:
    return {
        "documents": [
            {
                "id": doc.id,
                "title": doc.title,
                "file": doc.path.name,
                "version": doc.version,
                "hash": doc.hash,
                "date": doc.date,
                "sections": [
                    {"slug": u.slug, "heading": u.heading, "label": u.label, "quoted": u.quoted, "up": u.up, "down": u.down} for u in uses
                ],
                "kept_versions": [{"name": k.name, "saved_at": k.saved_at, "hash": k.hash} for k in kept],
            }
            for doc, uses, kept in docs
        ],
        "job": None
        if job is None
        else {
            "kind": job.kind,
            "document": job.document_id,
            "what": job.what,
            "stage": job.stage,
            "done": job.done,
            "total": job.total,
            "finished": job.finished,
            "error": job.error,
            "seconds": round(job.seconds, 1),
        },
        "preview": None
        if preview is None
        else {k: v for k, v in preview.to_json().items() if k != "changes"},
    }
