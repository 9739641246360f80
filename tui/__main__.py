"""`python -m tui [--store DIR] [--seeds DIR] [--llm SPEC]`: open the chat."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from qa import UserError, get_engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tui", description="The newsqa terminal chat.")
    parser.add_argument("--store", metavar="DIR", help="Chroma store folder (QA_STORE_DIR)")
    parser.add_argument("--seeds", metavar="DIR", help="articles folder (QA_SEEDS_DIR)")
    parser.add_argument(
        "--llm", metavar="SPEC", help="answer with an LLM, every citation checked (QA_LLM)"
    )
    args = parser.parse_args(argv)
    try:
        engine = get_engine(store=args.store, seeds=args.seeds, llm=args.llm)
    except UserError as exc:
        print(f"newsqa: error: {exc}", file=sys.stderr)
        return 2
    from tui.app import run_chat

    run_chat(engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
