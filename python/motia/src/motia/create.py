"""``motia-py create <dir>``: a new project with Python steps, from ``templates/python``.

The template's files are copied as they are, ``{{name}}`` replaced by the project name and
``gitignore`` written as ``.gitignore`` (packaging tools drop dot-files). Node's
``motia create --python`` writes the same files (see ``docs/motia.md``).
"""

from __future__ import annotations

import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

TEMPLATE = "python"
_RENAMES = {"gitignore": ".gitignore"}


def template_files() -> dict[str, str]:
    """The template as ``{relative path: text}`` (``{{name}}`` not yet replaced)."""
    root = resources.files("motia") / "templates" / TEMPLATE
    files: dict[str, str] = {}

    def walk(node: Traversable, prefix: str) -> None:
        for child in sorted(node.iterdir(), key=lambda c: c.name):
            if child.name == "__pycache__":
                continue
            rel = f"{prefix}{child.name}"
            if child.is_dir():
                walk(child, rel + "/")
            else:
                files[rel] = child.read_text(encoding="utf-8")

    walk(root, "")
    return files


def create_project(directory: Path, *, name: str | None = None) -> list[Path]:
    """Write the template into ``directory`` (missing or empty); returns the files written."""
    directory = Path(directory)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise FileExistsError(f"{directory} exists and is not an empty folder")
    project = name or directory.resolve().name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", project):
        raise ValueError(f"project name {project!r} must be letters, digits, '.', '_' or '-'")
    written: list[Path] = []
    for rel, text in template_files().items():
        parts = rel.split("/")
        parts[-1] = _RENAMES.get(parts[-1], parts[-1])
        target = directory.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.replace("{{name}}", project), encoding="utf-8")
        written.append(target)
    return written
