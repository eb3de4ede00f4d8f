"""Reading the knowledge base's YAML files (question banks, glossary)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML was built with it: the banks parsed in pure Python took a tenth of an index build."""


def read_yaml(path: Path) -> Any:
    """The document in `path`, loaded safely (plain data only), or None for an empty file."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
