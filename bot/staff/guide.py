"""The Guide page's core: the guide's documents with their sections' use, and changes to them —
previewed against a candidate index, published, rolled back — one at a time, in the background.

`GuideDesk` runs one job at a time on its own thread (a preview, a publish or a roll-back), at a
lower priority than members' answers, and keeps the finished preview until it is published,
discarded or replaced; a restart forgets it (its candidate build is rebuilt by the next preview).
Publishing writes the document into `knowledge/documents/`, keeps the version it replaces
(`guide_files.keep_version`), publishes the candidate build exactly as `guidebot index` publishes
one (`index.persist.publish`, one atomic link swap), and waits until the running server's hot reload
(`bot.runtime.Runtime`, which polls the live link) serves it. Rolling back writes a kept version
the same way and builds the index from it. Each step goes to the staff audit log, never a question.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from bot.indexing import build_index, source_hash
from bot.settings import Settings
from bot.staff.guide_files import (
    GuideChangeError,
    GuideDocument,
    KeptVersion,
    check_upload,
    content_hash,
    describe,
    keep_version,
    kept_path,
    kept_versions,
    replace_section,
    section_text,
)
from bot.staff.preview import LOGGED_QUESTIONS, Change, Engines, LiveAnswers, Preview, run_preview
from bot.store import utc_now
from index.persist import new_build_dir, publish
from knowledge.document import write_atomically
from knowledge.loaders import document_paths

log = logging.getLogger("guidebot.staff")

PREVIEW_DIR = "guide-preview"
LIVE_WAIT_SECONDS = 10.0
"""How long a publish waits for the runtime's hot reload (a poll every 2 s) to serve the new index."""
JOB_NICENESS = 15
"""Above the answer workers' 10: members' answers come before a preview's thousand."""

JobKind = Literal["preview", "publish", "roll back"]

__all__ = ["GuideBusy", "GuideChangeError", "GuideDesk", "GuideDocument", "GuideLog", "Job", "KeptVersion", "SectionUse"]


class GuideBusy(RuntimeError):
    """Another preview, publish or roll-back is running."""


class GuideLog(Protocol):
    """What the Guide page reads of the store (`bot.store.guide.SqlGuide`)."""

    def section_activity(self) -> dict[str, dict[str, int]]: ...

    def recent_questions(self, limit: int) -> list[str]: ...


@dataclass(frozen=True)
class SectionUse:
    slug: str
    heading: str
    level: int
    label: str
    quoted: int
    up: int
    down: int


@dataclass
class Job:
    kind: JobKind
    document_id: str
    who: str
    what: str
    stage: str = "Starting"
    done: int = 0
    total: int = 0
    finished: bool = False
    error: str | None = None
    seconds: float = 0.0
    started: float = field(default_factory=time.perf_counter)


class GuideDesk:
    """The guide's documents, and the one change at a time that staff preview, publish or roll back."""

    def __init__(
        self,
        settings: Settings,
        engines: Engines,
        store: GuideLog,
        record: Callable[[str, str, str], None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.settings = settings
        self.engines = engines
        self.store = store
        self.record = record
        self._clock = clock
        self._lock = threading.Lock()
        self._job: Job | None = None
        self._preview: Preview | None = None
        self._thread: threading.Thread | None = None
        self._live = LiveAnswers()

    # ------------------------------------------------------------ reading

    def documents(self) -> list[GuideDocument]:
        return [describe(path) for path in document_paths(self.settings.documents_dir)]

    def document(self, document_id: str) -> GuideDocument:
        for doc in self.documents():
            if doc.id == document_id:
                return doc
        raise GuideChangeError(f"There is no document {document_id!r} in the guide.")

    def listing(self) -> list[tuple[GuideDocument, list[SectionUse], list[KeptVersion]]]:
        """Each document, its sections with the answers that quoted each and the votes on them (one query), and its kept versions."""
        activity = self.store.section_activity()
        empty = {"quoted": 0, "up": 0, "down": 0}
        return [
            (doc, [SectionUse(s.slug, s.heading, s.level, s.label, **activity.get(s.label, empty)) for s in doc.sections], self.kept(doc.id))
            for doc in self.documents()
        ]

    def section_source(self, document_id: str, slug: str) -> str:
        doc = self.document(document_id)
        if not doc.editable:
            raise GuideChangeError("Only a Markdown document's sections can be edited here: upload a Markdown version.")
        return section_text(doc.path.read_text(encoding="utf-8"), doc.title, slug)

    def kept(self, document_id: str) -> list[KeptVersion]:
        return kept_versions(self.settings.data_dir, document_id)

    def job(self) -> Job | None:
        return self._job

    def preview(self) -> Preview | None:
        return self._preview

    @property
    def busy(self) -> bool:
        return self._job is not None and not self._job.finished

    # ------------------------------------------------------------ changes

    def preview_edit(self, who: str, document_id: str, slug: str, text: str) -> Job:
        doc = self.document(document_id)
        if not doc.editable:
            raise GuideChangeError("Only a Markdown document's sections can be edited here: upload a Markdown version.")
        heading = next((s.heading or "Introduction" for s in doc.sections if s.slug == slug), None)
        if heading is None:
            raise GuideChangeError(f"There is no section {slug!r} in this document.")
        source = doc.path.read_text(encoding="utf-8")
        changed = replace_section(source, doc.title, slug, text, self._clock().date().isoformat())
        if section_text(changed, doc.title, slug) == section_text(source, doc.title, slug):
            raise GuideChangeError("The section's text is unchanged.")
        return self._start_preview(who, doc, Change(doc.id, doc.path, changed, f"edited section {heading}", doc.hash))

    def preview_upload(self, who: str, document_id: str, name: str, content_type: str, data: bytes) -> Job:
        doc = self.document(document_id)
        text = check_upload(name, content_type, data, doc.id)
        if content_hash(text.encode("utf-8")) == doc.hash:
            raise GuideChangeError("The uploaded file is the version already published.")
        return self._start_preview(who, doc, Change(doc.id, doc.path, text, "uploaded a new version", doc.hash))

    def discard(self, who: str) -> bool:
        with self._lock:
            if self.busy or self._preview is None:
                return False
            preview, self._preview, self._job = self._preview, None, None
        shutil.rmtree(self._work_root(), ignore_errors=True)
        self.record(who, "guide preview discarded", f"{preview.change.document_id}: {preview.change.what}")
        return True

    def publish(self, who: str) -> Job:
        with self._lock:
            preview = self._preview
            if preview is None:
                raise GuideChangeError("There is no finished preview to publish.")
            job = self._claim(Job("publish", preview.change.document_id, who, preview.change.what))
        self._run(job, lambda: self._publish(job, preview))
        return job

    def roll_back(self, who: str, document_id: str, name: str) -> Job:
        doc = self.document(document_id)
        kept = kept_path(self.settings.data_dir, doc.id, name)
        with self._lock:
            job = self._claim(Job("roll back", doc.id, who, f"rolled back to the version kept {name}"))
        self._run(job, lambda: self._roll_back(job, doc, kept))
        return job

    # ------------------------------------------------------------ the jobs

    def _claim(self, job: Job) -> Job:
        """Make `job` the one running (under the lock), or refuse while another runs."""
        if self.busy:
            raise GuideBusy("Another preview, publish or roll-back is running: wait for it to finish.")
        self._job = job
        return job

    def _work_root(self) -> Path:
        return self.settings.data_dir / PREVIEW_DIR

    def _start_preview(self, who: str, doc: GuideDocument, change: Change) -> Job:
        with self._lock:
            job = self._claim(Job("preview", doc.id, who, change.what))
            self._preview = None
        self.record(who, "guide preview", f"{doc.id}: {change.what}")

        def work() -> None:
            shutil.rmtree(self._work_root(), ignore_errors=True)
            folder = self._work_root() / f"{int(time.time())}"
            folder.mkdir(parents=True)
            logged = self.store.recent_questions(LOGGED_QUESTIONS)

            def step(stage: str, done: int, total: int) -> None:
                job.stage, job.done, job.total = stage, done, total

            preview = run_preview(self.settings, self.engines, change, logged, folder, step, self._live)
            with self._lock:
                self._preview = preview

        self._run(job, work)
        return job

    def _publish(self, job: Job, preview: Preview) -> None:
        change = preview.change
        now = content_hash(change.path.read_bytes()) if change.path.exists() else ""
        if now != change.base_hash:
            raise GuideChangeError("The document changed since this preview: preview the change again.")
        job.stage = "Writing the document and keeping the version it replaces"
        was = keep_version(self.settings.data_dir, change.document_id, change.path, self._clock())
        write_atomically(change.target, change.text.encode("utf-8"))
        if change.target != change.path:
            change.path.unlink(missing_ok=True)
        job.stage = "Publishing the candidate index"
        final = self._publish_index(preview)
        job.stage = "Loading the new index"
        self._go_live(final)
        with self._lock:
            self._preview = None
        shutil.rmtree(self._work_root(), ignore_errors=True)
        self.record(job.who, "guide publish", f"{change.document_id}: {change.what}; {was.hash} -> {content_hash(change.text.encode('utf-8'))}")

    def _publish_index(self, preview: Preview) -> Path:
        """The candidate build itself when it was built from what is now on disk, else a fresh build."""
        staged = preview.build
        if staged.path.is_dir() and source_hash(self.settings) == staged.manifest.corpus_hash:
            build = new_build_dir(self.settings.data_dir)
            build.rmdir()
            staged.path.rename(build)
            return publish(build, self.settings.index_dir, staged.manifest)
        return build_index(self.settings, self.engines.embedder).path

    def _roll_back(self, job: Job, doc: GuideDocument, kept: Path) -> None:
        job.stage = "Writing the kept version and keeping the one it replaces"
        was = keep_version(self.settings.data_dir, doc.id, doc.path, self._clock())
        target = doc.path.with_suffix(kept.suffix)
        write_atomically(target, kept.read_bytes())
        if target != doc.path:
            doc.path.unlink(missing_ok=True)
        with self._lock:
            self._preview = None
        shutil.rmtree(self._work_root(), ignore_errors=True)
        job.stage = "Building the index"
        final = build_index(self.settings, self.engines.embedder).path
        job.stage = "Loading the new index"
        self._go_live(final)
        self.record(job.who, "guide roll back", f"{doc.id}: {was.hash} -> {kept.name}")

    def _served(self) -> Path:
        return self.engines.engine().index.path.resolve()

    def _go_live(self, final: Path) -> None:
        """Wait for the server's runtime to load the published build (its hot reload polls the live link), and
        check that it is the one served; a core no runtime watches (a script, a test) loads it here."""
        deadline = time.monotonic() + LIVE_WAIT_SECONDS
        while self._served() != final.resolve() and time.monotonic() < deadline:
            time.sleep(0.1)
        if self._served() != final.resolve():
            self.engines.refresh()
        if self._served() != final.resolve():
            raise RuntimeError(f"the server still serves {self._served().name}, not {final.name}")

    def _run(self, job: Job, work: Callable[[], None]) -> None:
        def target() -> None:
            with contextlib.suppress(OSError):
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), JOB_NICENESS)
            try:
                work()
            except GuideChangeError as exc:
                job.error = str(exc)
            except Exception as exc:  # noqa: BLE001 - a failed build must not stop the server: the page shows why, the log has it
                log.exception("guide %s failed", job.kind)
                job.error = f"{job.kind.capitalize()} failed: {type(exc).__name__}: {exc}"
            finally:
                job.seconds = time.perf_counter() - job.started
                job.finished = True

        self._thread = threading.Thread(target=target, name=f"guide-{job.kind.replace(' ', '-')}", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Until the running job finishes (`guidebot` shutting down, and tests)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
