"""One step name, one app: refusing a step that another app already serves on the engine.

Every step function carries ``metadata.motia`` with ``app`` (the app's name), ``instance``
(a random id of this process), ``root`` (the project folder), ``pid`` and, for a replica,
``replica: true`` — the keys Node Motia registers too. Before the runner registers a step it
reads ``engine.functions.list``; a step of the same name registered by another instance is
refused with :class:`StepNameTakenError` (naming both), unless both are replicas of the same
app. Without this check two apps would silently take turns answering each other's calls (the
engine spreads calls over every worker of a function path). The two halves of a mixed project
are two instances of one app, so one step name in both languages is refused as well.

The app's name is ``--app`` / ``MOTIA_APP`` when given, else the project's ``package.json``
``name``, else the folder's name (Node Motia's rule). ``--replica`` / ``MOTIA_REPLICA=1``
marks a replica. Checking and registering are two steps, so two apps started in the same
instant can both pass the check; the engine does not arbitrate.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iii import Bridge

from .errors import MotiaConfigError


class StepNameTakenError(MotiaConfigError):
    """A step name another app already registered on the engine."""


def app_name(root: Path) -> str:
    """The ``name`` of ``root/package.json``, else the folder's name."""
    try:
        name = json.loads((root / "package.json").read_text(encoding="utf-8")).get("name")
        if isinstance(name, str) and name:
            return name
    except (OSError, ValueError, AttributeError):
        pass  # no package.json, or not JSON: the folder names the app
    return root.name


@dataclass(frozen=True, slots=True)
class AppIdentity:
    """Who registers the steps: the ``app``, this process's ``instance``, ``root``, ``replica``."""

    app: str
    root: str
    replica: bool = False
    instance: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def for_project(
        cls, root: Path | None, *, app: str | None = None, replica: bool | None = None
    ) -> AppIdentity:
        """From explicit values, else ``MOTIA_APP`` / ``MOTIA_REPLICA``, else the folder."""
        folder = (root or Path.cwd()).resolve()
        chosen = app or os.environ.get("MOTIA_APP") or app_name(folder)
        if replica is None:
            replica = os.environ.get("MOTIA_REPLICA", "").lower() in ("1", "true", "yes")
        return cls(chosen, str(folder), bool(replica))

    def metadata(self) -> dict[str, Any]:
        """The ``metadata.motia`` keys that identify the app and this process."""
        out: dict[str, Any] = {"app": self.app, "instance": self.instance, "root": self.root}
        if self.replica:
            out["replica"] = True
        out["pid"] = os.getpid()
        return out


@dataclass(frozen=True, slots=True)
class Holder:
    """What the engine says about a step another instance registered."""

    app: str | None
    root: str | None
    pid: int | None
    replica: bool


def taken_message(file: str | None, step: str, theirs: Holder, ours: AppIdentity) -> str:
    """The refusal, naming both apps (Node Motia's sentence)."""
    where = f"{file}: " if file else ""
    pid = theirs.pid if theirs.pid is not None else "?"
    return (
        f'{where}step "{step}" is already registered on the engine by app "{theirs.app or "?"}" '
        f"({theirs.root or 'unknown folder'}, pid {pid}); "
        f'this app is "{ours.app}" ({ours.root}, pid {os.getpid()}). Two apps sharing a step '
        "name would answer each other's calls: rename the step, stop the other app, or start "
        "both with --replica (and the same --app name) if they are replicas of one app"
    )


class StepGuard:
    """The steps other instances hold (read from the engine) and the check against them.

    Until :meth:`refresh` has read the engine, :meth:`claim` lets every name through (a
    runner loads the step files first and checks them with :meth:`verify` before it
    connects).
    """

    def __init__(self, identity: AppIdentity) -> None:
        self.identity = identity
        self._others: dict[str, Holder] | None = None

    async def refresh(self, bridge: Bridge) -> None:
        """Read ``engine.functions.list`` through ``bridge``: the steps of other instances."""
        listed = await bridge.invoke_function("engine.functions.list", {})
        others: dict[str, Holder] = {}
        for fn in (listed or {}).get("functions", []):
            motia = (fn.get("metadata") or {}).get("motia") or {}
            step = motia.get("step")
            if not isinstance(step, str) or motia.get("instance") == self.identity.instance:
                continue
            app, root, pid = motia.get("app"), motia.get("root"), motia.get("pid")
            others.setdefault(
                step,
                Holder(
                    app=app if isinstance(app, str) else None,
                    root=root if isinstance(root, str) else None,
                    pid=pid if isinstance(pid, int) else None,
                    replica=motia.get("replica") is True,
                ),
            )
        self._others = others

    def verify(self, step: str, file: str | None) -> None:
        """Raise :class:`StepNameTakenError` when another app holds ``step``."""
        holder = (self._others or {}).get(step)
        if holder is None:
            return
        ours = self.identity
        if not (holder.replica and ours.replica and holder.app == ours.app):
            raise StepNameTakenError(taken_message(file, step, holder, ours))

    def claim(self, step: str, file: str | None) -> None:
        """Allow this process to register ``step``, or raise :class:`StepNameTakenError`."""
        self.verify(step, file)
