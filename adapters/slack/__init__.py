"""Slack adapter: members ask by @mention, DM, thread follow-up and `/guide`; answers come as Block Kit.

Plugs into guidebot through the `guidebot.adapters` entry point (`mount`) and
the `guidebot.cli` entry point (`slack-manifest`).
"""

from adapters.slack.app import SLACK_ADAPTER, SlackAdapter, mount

__all__ = ["SLACK_ADAPTER", "SlackAdapter", "mount"]
