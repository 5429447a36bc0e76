"""One step name, one project: refusing a step another project already serves on the engine.

Every step function carries ``metadata.motia.app`` (the project's identity) and, when the
project was started as a replica, ``metadata.motia.replica: true``. Before the runner
registers a step it reads ``engine.functions.list``; a step of the same name registered by
another worker is refused with :class:`StepNameTakenError` (naming both), unless both are
replicas of the same app. Without this check two projects would silently take turns answering
each other's calls (the engine spreads calls over every worker of a function path).

The app identity is ``MOTIA_APP`` when set, else the project folder's resolved absolute path
(Node Motia derives it from the same folder, so the two halves of a mixed project agree;
``motia dev`` passes its own to the Python runtime). ``MOTIA_REPLICA=1`` (or ``--replica``)
marks a replica. The check and the registration are two steps, so two projects started in the
same instant can both pass it; the engine does not arbitrate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iii import Bridge

from .errors import MotiaConfigError


class StepNameTakenError(MotiaConfigError):
    """A step name another project already registered on the engine."""


@dataclass(frozen=True, slots=True)
class AppIdentity:
    """Who registers the steps: ``app`` id and whether this process is a ``replica``."""

    app: str
    replica: bool = False

    @classmethod
    def for_project(
        cls, root: Path | None, *, app: str | None = None, replica: bool | None = None
    ) -> AppIdentity:
        """From explicit values, else ``MOTIA_APP`` / ``MOTIA_REPLICA``, else the folder path."""
        env_app = os.environ.get("MOTIA_APP") or None
        chosen = app or env_app or str((root or Path.cwd()).resolve())
        if replica is None:
            replica = os.environ.get("MOTIA_REPLICA", "").lower() in ("1", "true", "yes")
        return cls(chosen, bool(replica))

    def metadata(self) -> dict[str, Any]:
        """The ``metadata.motia`` keys that identify the app."""
        return {"app": self.app, **({"replica": True} if self.replica else {})}


@dataclass(frozen=True, slots=True)
class Holder:
    """What the engine says about a step someone registered: app, replica flag, file."""

    app: str | None
    replica: bool
    file: str | None


def taken_message(step: str, theirs: Holder, ours: AppIdentity, file: str | None) -> str:
    """The refusal, naming both projects (the same sentence Node Motia uses)."""
    other = theirs.app or "an unnamed worker"
    where = f" ({theirs.file})" if theirs.file else ""
    mine = f" ({file})" if file else ""
    return (
        f'step "{step}" is already registered on this engine by app {other}{where}; '
        f"refusing to register it for app {ours.app}{mine}. Rename one of them, or start "
        "both as replicas of one app (MOTIA_REPLICA=1 and the same MOTIA_APP)"
    )


class StepGuard:
    """The steps other workers hold (read from the engine) and the check against them.

    Until :meth:`refresh` has read the engine, :meth:`claim` only records names (a runner
    loads the step files first and checks them with :meth:`verify` before it connects).
    """

    def __init__(self, identity: AppIdentity) -> None:
        self.identity = identity
        self._others: dict[str, Holder] | None = None
        self._mine: set[str] = set()

    async def refresh(self, bridge: Bridge, *, registered: bool = True) -> None:
        """Read ``engine.functions.list`` through ``bridge``.

        ``registered``: this process's own steps are on the engine already, so entries under
        its names are its own; pass ``False`` when they have not been sent yet.
        """
        listed = await bridge.invoke_function("engine.functions.list", {})
        others: dict[str, Holder] = {}
        for fn in (listed or {}).get("functions", []):
            motia = ((fn.get("metadata") or {}).get("motia")) or {}
            step = motia.get("step")
            if not isinstance(step, str) or (registered and step in self._mine):
                continue
            app, file = motia.get("app"), motia.get("file")
            others.setdefault(
                step,
                Holder(
                    app=app if isinstance(app, str) else None,
                    replica=motia.get("replica") is True,
                    file=file if isinstance(file, str) else None,
                ),
            )
        self._others = others

    def verify(self, step: str, file: str | None) -> None:
        """Raise :class:`StepNameTakenError` when another project holds ``step``."""
        holder = (self._others or {}).get(step)
        if holder is None:
            return
        ours = self.identity
        if not (holder.replica and ours.replica and holder.app == ours.app):
            raise StepNameTakenError(taken_message(step, holder, ours, file))

    def claim(self, step: str, file: str | None) -> None:
        """Allow this process to register ``step``, or raise :class:`StepNameTakenError`."""
        if self._others is not None and step not in self._mine:
            self.verify(step, file)
        self._mine.add(step)

    def release(self, step: str) -> None:
        """This process no longer registers ``step``."""
        self._mine.discard(step)
