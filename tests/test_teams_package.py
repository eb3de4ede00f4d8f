"""`guidebot teams-package`: a zip Teams accepts, with the menu and prompt starters drawn from the index."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
import typer
from PIL import Image
from typer.testing import CliRunner

from adapters.teams.cli import register
from adapters.teams.package import (
    COMMANDS_MAX,
    DESCRIPTION_MAX,
    STARTERS_MAX,
    TITLE_MAX,
    article,
    fit_title,
    index_starters,
    manifest,
    menu_commands,
    prompt_starters,
)
from bot.commands import HELP_EXAMPLES
from bot.settings import Settings
from index.guide_index import GuideIndex
from knowledge.entities import Entities

APP_ID = "6F1B2C3D-0000-4000-8000-000000000001"


def cli(settings: Settings) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """guidebot"""

    register(app, lambda: settings)
    return app


@pytest.fixture()
def package(guide_settings: Settings, guide_index: GuideIndex, tmp_path: Path) -> zipfile.ZipFile:
    out = tmp_path / "out" / "guidebot-teams.zip"
    result = CliRunner().invoke(
        cli(guide_settings), ["teams-package", "--app-id", APP_ID, "--url", "https://bot.example.org", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return zipfile.ZipFile(out)


def test_the_package_holds_a_manifest_and_two_icons_at_its_root(package: zipfile.ZipFile) -> None:
    assert sorted(package.namelist()) == ["color.png", "manifest.json", "outline.png"]


def test_the_manifest_describes_a_bot_for_chat_teams_and_group_chats(package: zipfile.ZipFile) -> None:
    content = json.loads(package.read("manifest.json"))

    assert content["$schema"].endswith(f"/v{content['manifestVersion']}/MicrosoftTeams.schema.json")
    assert content["id"] == APP_ID.lower()
    assert content["icons"] == {"color": "color.png", "outline": "outline.png"}
    (bot,) = content["bots"]
    assert bot["botId"] == APP_ID.lower()
    assert set(bot["scopes"]) == {"personal", "team", "groupChat"}
    assert content["validDomains"] == ["bot.example.org"]
    assert len(content["name"]["short"]) <= 30 and len(content["description"]["short"]) <= 80
    assert all(content["developer"][k].startswith("https://") for k in ("websiteUrl", "privacyUrl", "termsOfUseUrl"))
    scopes = [s for command_list in bot["commandLists"] for s in command_list["scopes"]]
    assert sorted(scopes) == sorted(bot["scopes"])
    for command_list in bot["commandLists"]:
        assert 0 < len(command_list["commands"]) <= COMMANDS_MAX
        for command in command_list["commands"]:
            assert 0 < len(command["title"]) <= TITLE_MAX and 0 < len(command["description"]) <= DESCRIPTION_MAX


def test_prompt_starters_come_from_the_index(package: zipfile.ZipFile, guide_index: GuideIndex) -> None:
    content = json.loads(package.read("manifest.json"))
    personal = next(c for c in content["bots"][0]["commandLists"] if c["scopes"] == ["personal"])
    commands = {syntax for syntax, _ in HELP_EXAMPLES}
    starters = [c for c in personal["commands"] if c["title"] not in commands]
    entities = Entities.from_json(guide_index.entities).of_kind("role", "setting", "credential")
    names = {n for e in entities for n in (e.name, e.acronym) if n}

    assert 1 <= len(starters) <= STARTERS_MAX
    assert all(any(n in s["title"] or n in s["description"] for n in names) for s in starters)
    assert [c["title"] for c in personal["commands"] if c["title"] in commands] == [
        c.title for c in menu_commands(HELP_EXAMPLES)
    ]
    roles = Entities.from_json(guide_index.entities).of_kind("role")
    assert any(r.name in s["description"] for r in roles for s in starters)
    credentials = Entities.from_json(guide_index.entities).of_kind("credential")
    assert any(s["title"].startswith("Do I need") for s in starters) == bool(credentials)


def test_the_icons_are_pngs_of_the_sizes_teams_requires(package: zipfile.ZipFile) -> None:
    color = Image.open(io.BytesIO(package.read("color.png")))
    outline = Image.open(io.BytesIO(package.read("outline.png")))

    assert (color.format, color.size) == ("PNG", (192, 192))
    assert (outline.format, outline.size) == ("PNG", (32, 32))
    raw = outline.convert("RGBA").tobytes()
    pixels = [tuple(raw[i : i + 4]) for i in range(0, len(raw), 4)]
    assert any(a == 0 for *_, a in pixels), "the outline icon needs a transparent background"
    assert all((r, g, b) == (255, 255, 255) for r, g, b, a in pixels if a > 0), "the outline icon is white only"


def test_a_bad_app_id_or_url_is_refused_with_a_message(guide_settings: Settings, guide_index: GuideIndex, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "x.zip"
    bad_id = runner.invoke(cli(guide_settings), ["teams-package", "--app-id", "my-bot", "--url", "https://bot.example.org", "--out", str(out)])
    bad_url = runner.invoke(cli(guide_settings), ["teams-package", "--app-id", APP_ID, "--url", "http://bot.example.org", "--out", str(out)])

    assert bad_id.exit_code == 2 and "GUID" in bad_id.output
    assert bad_url.exit_code == 2 and "https" in bad_url.output
    assert not out.exists()


def test_without_an_index_the_command_says_to_build_it(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "empty")
    result = CliRunner().invoke(cli(settings), ["teams-package", "--app-id", APP_ID, "--url", "https://bot.example.org", "--out", str(tmp_path / "x.zip")])
    assert result.exit_code == 1 and "guidebot index" in result.output


def test_long_prompts_use_the_acronym_and_keep_the_full_question() -> None:
    names = [("Vice President of Medical Affairs", "VPMA"), ("Master of Business Administration", "MBA")]
    starters = prompt_starters(
        ["What does a Vice President of Medical Affairs do?", "What does a Vice President of Medical Affairs do at an extraordinarily long named setting?"],
        [("Master of Business Administration", "MBA")],
        names,
    )

    assert [s.title for s in starters] == ["What does a VPMA do?", "Do I need an MBA?"]
    assert starters[0].description == "What does a Vice President of Medical Affairs do?"
    assert fit_title("x" * 40, names) is None
    assert (article("MBA"), article("VPMA"), article("officer"), article("director")) == ("an", "a", "an", "a")


def test_index_starters_never_exceed_the_limits(guide_index: GuideIndex) -> None:
    starters = index_starters(guide_index)
    assert len(starters) <= STARTERS_MAX
    assert all(len(s.title) <= TITLE_MAX and len(s.description) <= DESCRIPTION_MAX for s in starters)
    assert len({s.title.lower() for s in starters}) == len(starters)


def test_the_manifest_rejects_what_teams_would() -> None:
    with pytest.raises(ValueError):
        manifest(app_id="not-a-guid", url="https://bot.example.org", commands=[], starters=[])
    with pytest.raises(ValueError):
        manifest(app_id=APP_ID, url="https://", commands=[], starters=[])
