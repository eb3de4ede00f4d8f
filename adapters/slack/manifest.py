"""The Slack app manifest an admin pastes into api.slack.com/apps → "Create New App" → "From a manifest".

Minimal bot scopes, each for one thing guidebot does:
- `app_mentions:read`: @guidebot in channels (`app_mention`);
- `chat:write`: post answers;
- `commands`: `/guide`;
- `im:history`: direct messages (`message.im`);
- `channels:history`, `groups:history`: follow-ups in public / private channel
  threads guidebot answered in (`message.channels`, `message.groups`);
- `users:read`: the names that go with a hand-off to the program team and with the team's replies;
- `im:write`: a DM to relay the program team's reply to a member who asked privately (`/guide`);
- `assistant:write`: the assistant surface (suggested prompts, "Searching the
  guide…" status; `assistant_thread_started`), only with `assistant=True`.
"""

from __future__ import annotations

from typing import Any

import yaml

from adapters.slack.app import EVENTS_PATH

DESCRIPTION = "Answers from the physician-leadership guide, quoting its passages and sources."
LONG_DESCRIPTION = (
    "guidebot answers physicians on the path to Chief Medical Officer from the program's guide. "
    "Every answer is a verbatim quotation of the guide with its numbered sources, never generated text. "
    "Mention @guidebot in a channel, send it a direct message, or use /guide: `/guide role vpma`, "
    "`/guide credential cpe`, `/guide path`, `/guide roles`, `/guide help`, or `/guide <question>`."
)
USAGE_HINT = "role vpma | credential cpe | path | roles | help | <question>"


def build_manifest(
    url: str | None,
    *,
    name: str = "guidebot",
    socket_mode: bool = False,
    assistant: bool = True,
    suggested_prompts: list[str] | None = None,
) -> dict[str, Any]:
    """The manifest as a dict; `url` is the server's public base URL (not needed in Socket Mode)."""
    if not socket_mode and not url:
        raise ValueError("a public URL is needed unless the app uses Socket Mode")
    request_url = f"{url.rstrip('/')}{EVENTS_PATH}" if url else None
    scopes = ["app_mentions:read", "channels:history", "chat:write", "commands", "groups:history", "im:history", "im:write", "users:read"]
    events = ["app_mention", "message.channels", "message.groups", "message.im"]
    features: dict[str, Any] = {
        "app_home": {"home_tab_enabled": False, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False},
        "bot_user": {"display_name": name, "always_online": True},
        "slash_commands": [
            {
                "command": "/guide",
                "description": "Ask the guide, or get a role, credential or career-path summary",
                "usage_hint": USAGE_HINT,
                "should_escape": False,
                **({"url": request_url} if request_url and not socket_mode else {}),
            }
        ],
    }
    if assistant:
        scopes.append("assistant:write")
        events += ["assistant_thread_started", "assistant_thread_context_changed"]
        features["assistant_view"] = {
            "assistant_description": DESCRIPTION,
            "suggested_prompts": [{"title": p[:75], "message": p} for p in (suggested_prompts or [])[:4]],
        }
    settings: dict[str, Any] = {
        "event_subscriptions": {"bot_events": sorted(events)},
        "interactivity": {"is_enabled": True},
        "org_deploy_enabled": False,
        "socket_mode_enabled": socket_mode,
        "token_rotation_enabled": False,
    }
    if request_url and not socket_mode:
        settings["event_subscriptions"]["request_url"] = request_url
        settings["interactivity"]["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": DESCRIPTION,
            "long_description": LONG_DESCRIPTION,
            "background_color": "#1d4e89",
        },
        "features": features,
        "oauth_config": {"scopes": {"bot": sorted(scopes)}},
        "settings": settings,
    }


def manifest_yaml(manifest: dict[str, Any]) -> str:
    return yaml.safe_dump(manifest, sort_keys=False, allow_unicode=True, width=120)
