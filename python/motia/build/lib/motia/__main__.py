"""``python -m motia run <folder>``."""

from .cli import main

raise SystemExit(main())
