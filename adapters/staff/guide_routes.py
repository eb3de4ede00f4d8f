"""The dashboard's Guide page: the guide's documents, and previewing, publishing and rolling back a change.

- `GET /staff/guide`: each document (version, content hash, date), its sections with how often each
  was quoted and voted on, an upload form and the versions kept; the running job's progress and the
  finished preview. `?edit=<document>` adds an editor per section (`#<section>` scrolls to one).
- `GET /staff/api/guide`: the same as JSON; `GET /staff/api/guide/preview`: the preview's every changed answer.
- `POST /staff/guide/preview` (document, section, text) and `POST /staff/guide/upload` (multipart:
  document, file) start a preview; `POST /staff/guide/publish`, `/staff/guide/discard` and
  `/staff/guide/rollback` (document, version) act on it or on a kept version.

Every route is behind the dashboard's guard (sign-in; a change also needs this site and the session's
CSRF token). A change answers with a redirect to the page, which shows the job's progress.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from aiohttp import web

from adapters.staff.guide_pages import guide_json, guide_page
from bot.http import json_error
from bot.staff.guide import GuideBusy, GuideChangeError, GuideDesk
from bot.staff.guide_files import MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    from adapters.staff import StaffPages



def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, content_type="text/html", status=status, headers={"Cache-Control": "no-store"})


class GuideRoutes:
    """`/staff/guide`, its JSON and its changes, behind the dashboard's guard."""

    def __init__(self, pages: StaffPages) -> None:
        self.pages = pages
        self.desk: GuideDesk = pages.guidebot.guide

    def mount(self, app: web.Application) -> None:
        guard = self.pages.guard
        app.router.add_get("/staff/guide", guard(self.page))
        app.router.add_get("/staff/api/guide", guard(self.json))
        app.router.add_get("/staff/api/guide/preview", guard(self.preview_json))
        app.router.add_post("/staff/guide/preview", guard(self.preview_edit))
        app.router.add_post("/staff/guide/upload", guard(self.preview_upload))
        app.router.add_post("/staff/guide/publish", guard(self.publish))
        app.router.add_post("/staff/guide/discard", guard(self.discard))
        app.router.add_post("/staff/guide/rollback", guard(self.roll_back))

    async def _page(self, request: web.Request, *, problem: str | None = None, status: int = 200) -> web.Response:
        member = self.pages.member(request)
        edit = request.query.get("edit")
        listing = await asyncio.to_thread(self.desk.listing)
        texts: dict[str, str] = {}
        if edit:
            doc = next((d for d, _u, _k in listing if d.id == edit and d.editable), None)
            if doc is None:
                problem, status = problem or f"There is no Markdown document {edit!r} to edit.", 404
            else:
                texts = {s.slug: await asyncio.to_thread(self.desk.section_source, doc.id, s.slug) for s in doc.sections}
        page = guide_page(
            listing,
            job=self.desk.job(),
            preview=self.desk.preview(),
            who=member.email,
            csrf=member.csrf,
            edit=edit,
            texts=texts,
            problem=problem,
            limit_kb=MAX_UPLOAD_BYTES // 1024,
        )
        return _html(page, status)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return await self._page(request)

    async def json(self, request: web.Request) -> web.StreamResponse:
        listing = await asyncio.to_thread(self.desk.listing)
        return web.json_response(guide_json(listing, self.desk.job(), self.desk.preview()), headers={"Cache-Control": "no-store"})

    async def preview_json(self, request: web.Request) -> web.StreamResponse:
        preview = self.desk.preview()
        if preview is None:
            return json_error(404, "no_preview", "No finished preview: start one on the Guide page.")
        return web.json_response(preview.to_json(), headers={"Cache-Control": "no-store"})

    async def _act(self, request: web.Request, action: Any, *args: Any) -> web.StreamResponse:
        """Run a change; on success back to the page (which shows its progress), else the page saying why."""
        try:
            await asyncio.to_thread(action, self.pages.member(request).email, *args)
        except GuideBusy as exc:
            return await self._page(request, problem=str(exc), status=409)
        except GuideChangeError as exc:
            return await self._page(request, problem=str(exc), status=400)
        raise web.HTTPSeeOther("/staff/guide")

    async def preview_edit(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        fields = (str(form.get("document", "")), str(form.get("section", "")), str(form.get("text", "")))
        return await self._act(request, self.desk.preview_edit, *fields)

    async def preview_upload(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form.get("file")
        if not isinstance(upload, web.FileField):
            return await self._page(request, problem="Choose a Markdown file to upload.", status=400)
        data = upload.file.read(MAX_UPLOAD_BYTES + 1)
        return await self._act(request, self.desk.preview_upload, str(form.get("document", "")), upload.filename, upload.content_type, data)

    async def publish(self, request: web.Request) -> web.StreamResponse:
        return await self._act(request, self.desk.publish)

    async def discard(self, request: web.Request) -> web.StreamResponse:
        return await self._act(request, self.desk.discard)

    async def roll_back(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        return await self._act(request, self.desk.roll_back, str(form.get("document", "")), str(form.get("version", "")))
