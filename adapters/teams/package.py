"""The Teams app package an admin uploads: manifest.json and two icons in a zip.

The command menu and the prompt starters come from the index (the roles and
credentials `guidebot index` found in the documents), never from a list of one
guide's names. Limits are the strictest any manifest version has held, so the
package validates whichever schema Teams checks it against: a command title of
32 characters, a description of 128, 10 commands per list (later schemas allow
12 and longer titles). A prompt that does not fit a title is shortened to the
role's or credential's acronym; the full question stays in the description.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from PIL import Image, ImageDraw

from adapters.teams.text import clip, one_line

MANIFEST_VERSION = "1.22"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
TITLE_MAX = 32
DESCRIPTION_MAX = 128
COMMANDS_MAX = 10
STARTERS_MAX = 12
COLOR_SIZE = 192
OUTLINE_SIZE = 32
ACCENT = "#1F4E79"
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_LETTER_VOWEL_SOUND = set("AEFHILMNORSX")


@dataclass(frozen=True)
class MenuCommand:
    title: str
    description: str

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "description": self.description}


def article(word: str) -> str:
    """ "a VPMA" but "an MBA", "an officer" but "a director"."""
    if word.isupper() and len(word) <= 6:
        return "an" if word[:1] in _LETTER_VOWEL_SOUND else "a"
    return "an" if word[:1].lower() in "aeiou" else "a"


def fit_title(prompt: str, names: Sequence[tuple[str, str]]) -> str | None:
    """The prompt as a menu title: as it is, or with full names swapped for acronyms, or None."""
    text = one_line(prompt)
    if len(text) <= TITLE_MAX:
        return text
    for name, acronym in sorted(names, key=lambda n: -len(n[0])):
        if name in text:
            text = re.sub(rf"\b(an?) {re.escape(name)}\b", f"{article(acronym)} {acronym}", text)
            text = text.replace(name, acronym)
    return text if len(text) <= TITLE_MAX else None


def prompt_starters(
    role_prompts: Iterable[str],
    credentials: Sequence[tuple[str, str | None]],
    names: Sequence[tuple[str, str]],
    limit: int = STARTERS_MAX,
) -> list[MenuCommand]:
    """Questions a member can pick before typing: the roles' questions, then one per credential."""
    starters: list[MenuCommand] = []
    for prompt in role_prompts:
        title = fit_title(prompt, names)
        if title:
            starters.append(MenuCommand(title, clip(one_line(prompt), DESCRIPTION_MAX)))
    # Doctorates ("Doctor of Medicine") are what members already hold: ask about them last.
    for name, acronym in sorted(credentials, key=lambda c: c[0].lower().startswith("doctor of")):
        short = acronym or name
        title = f"Do I need {article(short)} {short}?"
        description = f"What the {name} is, who awards it, and why it matters"
        if len(title) <= TITLE_MAX:
            starters.append(MenuCommand(title, clip(description, DESCRIPTION_MAX)))
    unique = list({s.title.lower(): s for s in reversed(starters)}.values())[::-1]
    return unique[:limit]


def index_starters(index: Any) -> list[MenuCommand]:
    """Prompt starters for a loaded `GuideIndex`."""
    from bot.summaries import suggested_prompts
    from knowledge.entities import Entities

    entities = Entities.from_json(index.entities)
    known = entities.of_kind("role", "setting", "credential")
    names = [(e.name, e.acronym) for e in known if e.acronym]
    credentials = [(e.name, e.acronym) for e in entities.of_kind("credential")]
    return prompt_starters(suggested_prompts(index, limit=STARTERS_MAX), credentials, names)


def menu_commands(examples: Sequence[tuple[str, str]]) -> list[MenuCommand]:
    """The typed commands that take no argument (`help`, `path`, `roles` …), from the core's help list."""
    return [
        MenuCommand(syntax, clip(description, DESCRIPTION_MAX))
        for syntax, description in examples
        if "<" not in syntax and len(syntax) <= TITLE_MAX
    ]


def command_lists(commands: Sequence[MenuCommand], starters: Sequence[MenuCommand]) -> list[dict[str, Any]]:
    """Personal chat shows prompt starters first; teams and group chats list the commands."""
    personal = (list(starters)[: max(0, COMMANDS_MAX - len(commands))] + list(commands))[:COMMANDS_MAX]
    group = (list(commands) + list(starters))[:COMMANDS_MAX]
    return [
        {"scopes": ["personal"], "commands": [c.to_json() for c in personal]},
        {"scopes": ["team", "groupChat"], "commands": [c.to_json() for c in group]},
    ]


def manifest(
    *,
    app_id: str,
    url: str,
    commands: Sequence[MenuCommand],
    starters: Sequence[MenuCommand],
    version: str = "1.0.0",
    developer: str = "guidebot",
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    if not _GUID.match(app_id):
        raise ValueError(f"the app id must be the bot's Microsoft App ID (a GUID), not {app_id!r}")
    parsed = urlparse(url)
    if parsed.scheme != "https" or not parsed.hostname:
        raise ValueError(f"the bot's URL must be https://…, not {url!r}")
    base = url.rstrip("/")
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": app_id.lower(),
        "developer": {
            "name": clip(developer, 32),
            "websiteUrl": base,
            "privacyUrl": privacy_url or base,
            "termsOfUseUrl": terms_url or base,
        },
        "name": {"short": "guidebot", "full": "guidebot: the path to Chief Medical Officer"},
        "description": {
            "short": "Answers from the CMO guide, with quoted passages and their sources",
            "full": (
                "guidebot answers physicians' questions about the path to Chief Medical Officer from the "
                "program's guide. Every answer quotes the guide word for word and shows where each passage "
                "comes from; when the guide does not cover a question, guidebot says so rather than guess. "
                "Type help for the commands: role summaries, credentials, the career path."
            ),
        },
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": app_id.lower(),
                "scopes": ["personal", "team", "groupChat"],
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": command_lists(commands, starters),
            }
        ],
        "validDomains": [parsed.hostname],
    }


def _book(draw: ImageDraw.ImageDraw, size: int, fill: Any, width: int) -> None:
    """An open book under a speech bubble's tail: the guide, answering."""
    s = size / 32
    left = [(4 * s, 9 * s), (15 * s, 11 * s), (15 * s, 26 * s), (4 * s, 24 * s)]
    right = [(28 * s, 9 * s), (17 * s, 11 * s), (17 * s, 26 * s), (28 * s, 24 * s)]
    draw.polygon(left, outline=fill, width=width)
    draw.polygon(right, outline=fill, width=width)
    for y in (15, 18, 21):
        draw.line([(7 * s, y * s), (13 * s, (y + 1) * s)], fill=fill, width=max(1, width // 2))
        draw.line([(19 * s, (y + 1) * s), (25 * s, y * s)], fill=fill, width=max(1, width // 2))
    draw.ellipse([(13 * s, 3 * s), (19 * s, 8 * s)], outline=fill, width=width)


def color_icon() -> bytes:
    """192×192, full colour: a white book on the accent colour."""
    image = Image.new("RGBA", (COLOR_SIZE, COLOR_SIZE), ACCENT)
    _book(ImageDraw.Draw(image), COLOR_SIZE, (255, 255, 255, 255), 8)
    return _png(image)


def outline_icon() -> bytes:
    """32×32, white on transparent, as Teams requires for the outline icon."""
    image = Image.new("RGBA", (OUTLINE_SIZE, OUTLINE_SIZE), (0, 0, 0, 0))
    _book(ImageDraw.Draw(image), OUTLINE_SIZE, (255, 255, 255, 255), 2)
    return _png(image)


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def package_bytes(manifest_json: dict[str, Any]) -> bytes:
    """The zip Teams expects: manifest.json and the icons at its root."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest_json, ensure_ascii=False, indent=2))
        archive.writestr(COLOR_ICON, color_icon())
        archive.writestr(OUTLINE_ICON, outline_icon())
    return out.getvalue()
