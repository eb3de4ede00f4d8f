"""Getting a reply to Slack: Web API posts and `response_url` posts, retried and never lost quietly.

slack_sdk's retry handlers retry rate limits (honouring `Retry-After`), 500 /
503 and connection errors. On top of that, a payload Slack refuses as blocks
(`invalid_blocks` …) is sent again in the next, simpler rendering style
(`render.STYLES`), so a rendering detail never costs a member their answer.
When a reply finally cannot be delivered, it is logged with the event id
(never the message text) and the member is told, where Slack still lets us.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import render
from bot.answer import Reply
from bot.metrics import ERRORS

log = logging.getLogger(__name__)

BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format", "invalid_attachments", "msg_too_long", "msg_blocks_too_long"})
"""Errors that mean "Slack did not accept these blocks": worth a simpler rendering."""
TRANSPORT_ERRORS = (SlackClientError, aiohttp.ClientError, asyncio.TimeoutError, OSError)
STATUS_SEARCHING = "Searching the guide…"
ANSWER_EVENT = "guidebot_answer"
"""Message metadata on every answer, naming the lease it answers, so a replica recovering a lease can
see whether the answer had reached Slack before the replica holding it died."""

# slack_sdk logs request bodies (members' words) at DEBUG: keep its loggers above that.
SDK_LOG = logging.getLogger("adapters.slack.sdk")


def retry_handlers() -> list[AsyncRetryHandler]:
    return [
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


def web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """The one Web API client: `SLACK_API_URL` as base (GovSlack, a local fake), retries on."""
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=retry_handlers(),
        logger=SDK_LOG,
    )


def _unavailable(error: BaseException) -> bool:
    """Slack (or the way to it) is down or throttling us, after the retries: not about this message."""
    if isinstance(error, SlackApiError):
        status = getattr(error.response, "status_code", 200)
        return status == 429 or status >= 500
    return True


def _error_code(error: BaseException) -> str:
    if isinstance(error, SlackApiError):
        response = error.response
        try:
            code = response.get("error") if response is not None else None
        except (AttributeError, TypeError):
            code = None
        return str(code or f"http_{getattr(response, 'status_code', 'unknown')}")
    return type(error).__name__


class Delivery:
    """Sends what the renderers produce; one instance per Slack app."""

    def __init__(self, client: AsyncWebClient, public_url: str | None) -> None:
        self.client = client
        self.public_url = public_url
        self.ask_team = False
        """Refusals offer "Ask the program team" (`GUIDEBOT_STAFF_CHANNEL` is set; see `adapters.slack.handoff`)."""

    def _failed(self, what: str, ref: str, code: str) -> None:
        ERRORS.labels("slack").inc()
        log.error("slack: %s failed for event %s (%s)", what, ref, code, extra={"event_id": ref, "slack_error": code})

    # ------------------------------------------------------------ Web API

    async def post_reply(
        self, reply: Reply, *, channel: str, thread_ts: str | None, ref: str, share: str | None = None, lease: str | None = None
    ) -> str:
        """chat.postMessage a reply: "delivered", "refused" (Slack said no to it) or "unavailable" (Slack is down).

        `lease` (the key the answer is leased under) rides along as message metadata, for `answered`.
        """
        extra: dict[str, Any] = {"metadata": {"event_type": ANSWER_EVENT, "event_payload": {"lease": lease}}} if lease else {}
        for style in render.STYLES:
            message = render.reply_message(reply, public_url=self.public_url, share=share, style=style, ask_team=self.ask_team)
            try:
                await self.client.chat_postMessage(
                    channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **message, **extra
                )
                return "delivered"
            except SlackApiError as error:
                code = _error_code(error)
                if code in BLOCK_ERRORS and style != render.STYLES[-1]:
                    log.warning("slack refused the %s rendering (%s); sending a simpler one", style, code, extra={"event_id": ref})
                    continue
                self._failed("posting the answer", ref, code)
                return "unavailable" if _unavailable(error) else "refused"
            except TRANSPORT_ERRORS as error:
                self._failed("posting the answer", ref, _error_code(error))
                return "unavailable"
        return "refused"

    async def answered(self, *, lease: str, channel: str, thread_ts: str | None, after_ts: str, ref: str) -> bool:
        """Is an answer for `lease` already in the conversation? Read back when recovering a lease only.

        A replica killed in the instant between Slack taking its answer and the database recording
        it leaves a lease that looks unanswered; this one conversations.replies / .history call (the
        history scopes the app already has) keeps the member from getting the answer twice. When the
        check itself fails, the answer is sent: twice is better than never.
        """
        try:
            if thread_ts:
                response = await self.client.conversations_replies(channel=channel, ts=thread_ts, include_all_metadata=True, limit=200)
            else:
                response = await self.client.conversations_history(channel=channel, oldest=after_ts, include_all_metadata=True, limit=100)
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            log.warning("slack: could not check for an earlier answer (%s); answering", _error_code(error), extra={"event_id": ref})
            return False
        messages = response.get("messages") or []
        return any(
            isinstance(m, dict)
            and isinstance(m.get("metadata"), dict)
            and m["metadata"].get("event_type") == ANSWER_EVENT
            and (m["metadata"].get("event_payload") or {}).get("lease") == lease
            for m in messages
        )

    async def post_failure(self, *, channel: str, thread_ts: str | None, user: str | None, ref: str, in_conversation: bool = True) -> None:
        """Tell the member we could not answer: in the conversation, or privately when that fails.

        `in_conversation=False` when a post there just failed because Slack was unavailable
        (after retries): then only the private notice is tried.
        """
        message = render.failure_message()
        if in_conversation:
            try:
                await self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, **message)
                return
            except (SlackApiError, *TRANSPORT_ERRORS) as error:
                self._failed("posting the failure notice", ref, _error_code(error))
        if not user:
            return
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, thread_ts=thread_ts, **message)
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            self._failed("telling the member privately", ref, _error_code(error))

    async def update(self, *, channel: str, ts: str, text: str, blocks: list[dict[str, Any]], ref: str) -> bool:
        try:
            await self.client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
            return True
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            self._failed("updating the message", ref, _error_code(error))
            return False

    async def set_status(self, *, channel: str, thread_ts: str, status: str, ref: str) -> None:
        """Assistant threads only; where the app has no assistant feature, Slack says no and nothing changes."""
        try:
            await self.client.assistant_threads_setStatus(channel_id=channel, thread_ts=thread_ts, status=status)
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            log.debug("slack: no assistant status (%s)", _error_code(error), extra={"event_id": ref})

    async def suggest_prompts(self, *, channel: str, thread_ts: str, prompts: list[str], ref: str) -> bool:
        try:
            await self.client.assistant_threads_setSuggestedPrompts(
                channel_id=channel,
                thread_ts=thread_ts,
                title="Ask the guide",
                prompts=[{"title": render.clip(p, 75), "message": p} for p in prompts],
            )
            return True
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            self._failed("setting suggested prompts", ref, _error_code(error))
            return False

    # ------------------------------------------------------------ response_url

    async def _send(self, response_url: str, body: dict[str, Any]) -> tuple[int, str]:
        webhook = AsyncWebhookClient(response_url, retry_handlers=retry_handlers(), logger=SDK_LOG)
        response = await webhook.send_dict(body)
        return response.status_code, response.body or ""

    async def respond(
        self,
        response_url: str,
        reply: Reply,
        *,
        ref: str,
        response_type: str = "ephemeral",
        share: str | None = None,
    ) -> bool:
        """Post a reply through a `response_url` (slash commands, buttons)."""
        for style in render.STYLES:
            message = render.reply_message(reply, public_url=self.public_url, share=share, style=style, ask_team=self.ask_team)
            ok, code = await self._respond_once(response_url, {**message, "response_type": response_type, "replace_original": False})
            if ok:
                return True
            if code in BLOCK_ERRORS and style != render.STYLES[-1]:
                log.warning("slack refused the %s rendering (%s); sending a simpler one", style, code, extra={"event_id": ref})
                continue
            self._failed("responding", ref, code)
            return False
        return False

    async def respond_message(self, response_url: str, message: dict[str, Any], *, ref: str, **options: Any) -> bool:
        ok, code = await self._respond_once(response_url, {**message, **options})
        if not ok:
            self._failed("responding", ref, code)
        return ok

    async def delete_original(self, response_url: str, *, ref: str) -> None:
        ok, code = await self._respond_once(response_url, {"delete_original": True})
        if not ok:
            log.warning("slack: could not remove the private copy (%s)", code, extra={"event_id": ref})

    async def _respond_once(self, response_url: str, body: dict[str, Any]) -> tuple[bool, str]:
        try:
            status, text = await self._send(response_url, body)
        except (SlackApiError, *TRANSPORT_ERRORS) as error:
            return False, _error_code(error)
        if status == 200:
            return True, ""
        return False, (text.strip()[:64] or f"http_{status}")
