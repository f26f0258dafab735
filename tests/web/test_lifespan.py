"""The served app freezes what it built to start, out of the collector's reach, while it runs."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

from bastion.core.settings import Settings
from bastion.store import Store
from bastion.web.app import create_app
from bastion.web.testing import run_lifespan


def test_the_heap_built_to_start_is_frozen_while_serving_and_let_go_at_shutdown(
    sqlite_store: Store, tmp_path: Path
) -> None:
    app = create_app(sqlite_store, Settings(data_dir=tmp_path))
    frozen: list[int] = []
    asyncio.run(run_lifespan(app, lambda: frozen.append(gc.get_freeze_count())))
    assert frozen[0] > 10_000  # modules, the app and its routes: the bulk of the heap
    assert gc.get_freeze_count() == 0
