"""`python -m tui.probe CORPUS STORE`: the TUI's start-up times, for `newsqa bench`.

Prints `READY <epoch>` when the question box first accepts input and `STORE_READY <epoch>` when
the store is open and warmed up.
"""

from __future__ import annotations

import sys
import time


def main(corpus: str, store: str) -> None:
    """Run the TUI headless; print when the question box first accepts input, and when the
    store is ready (ingest check and warm-up done), as epoch seconds."""
    import asyncio

    from qa.engine import Engine
    from qa.settings import Settings
    from tui.app import create_app

    engine = Engine(Settings().with_overrides(seeds=corpus, store=store))
    app = create_app(engine)

    async def run() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            while True:
                box = app.screen_stack[0].query_one("#question")
                if box.has_focus and not box.disabled:
                    print(f"READY {time.time()!r}", flush=True)
                    break
                await pilot.pause(0.005)
            ready = getattr(app, "_store_ready", None)
            limit = time.perf_counter() + 600
            while ready is not None and not ready.is_set() and time.perf_counter() < limit:
                await pilot.pause(0.02)
            print(f"STORE_READY {time.time()!r}", flush=True)

    asyncio.run(run())


if __name__ == "__main__":
    main(*sys.argv[1:3])
