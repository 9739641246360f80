"""The `newsqa` command line: ingest, ask, status, chat (and eval/bench)."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Callable, Sequence
from typing import Any

from qa.display import visible
from qa.errors import UserError


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seeds", metavar="DIR", help="articles folder (default: QA_SEEDS_DIR or seeds/)"
    )
    parser.add_argument(
        "--store", metavar="DIR", help="Chroma store folder (default: QA_STORE_DIR or store/)"
    )
    parser.add_argument(
        "--chroma-url", metavar="URL", help="use a Chroma server (default: QA_CHROMA_URL)"
    )


def _llm_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--llm",
        metavar="SPEC",
        help="answer with an LLM, every citation checked: llamacpp:PATH.gguf, "
        "ollama:MODEL[@URL] or openai:MODEL@BASE_URL (default: QA_LLM; off: extractive)",
    )


def _filter_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--since", metavar="DATE", help="only articles dated on/after (2021, 2021-07, 2021-07-08)"
    )
    parser.add_argument("--until", metavar="DATE", help="only articles dated on/before")
    parser.add_argument(
        "--source", action="append", metavar="FILE", help="only this article file (repeatable)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="newsqa",
        description="Ask questions of a folder of news articles; every claim is cited.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("ingest", help="embed new or changed articles into the store")
    _store_options(p)
    p.add_argument(
        "--rebuild", action="store_true", help="drop the store and embed everything again"
    )
    p.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    p = sub.add_parser("ask", help="answer one question, with numbered sources")
    p.add_argument("question")
    _store_options(p)
    _filter_options(p)
    p.add_argument("--top-k", type=int, metavar="N", help="chunks to retrieve (default 8)")
    _llm_option(p)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = sub.add_parser("status", help="what the store holds")
    _store_options(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("eval", help="measure answer quality on question sets (a dev tool)")
    _store_options(p)
    p.add_argument(
        "--bbc",
        action="store_true",
        help="the BBC corpus (../shared/corpora/bbc, store in store-bbc/) and bbc_dev",
    )
    p.add_argument(
        "--set",
        dest="question_sets",
        action="append",
        metavar="FILE",
        help="JSONL question set, repeatable (default: the seed sets, or bbc_dev with --bbc)",
    )
    p.add_argument("--no-ablations", action="store_true", help="only the shipped reader")
    _llm_option(p)
    p.add_argument(
        "--failures", action="store_true", help="also list the questions answered or cited wrongly"
    )
    p.add_argument("--json", action="store_true")

    p = sub.add_parser(
        "train", help="fit the reader on bbc_train, calibrate on bbc_dev (a dev tool)"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="retrain and fail unless the result equals the shipped model byte for byte",
    )

    p = sub.add_parser("chat", help="open the terminal chat (ingests the seeds on first run)")
    _store_options(p)
    _llm_option(p)

    p = sub.add_parser(
        "bench", help="measure speed, memory and accuracy on a generated corpus with the seeds"
    )
    p.add_argument(
        "--articles",
        type=int,
        default=None,
        metavar="N",
        help="generated articles mixed with the seeds (default 10000)",
    )
    p.add_argument(
        "--vectors",
        choices=("model", "hashed"),
        default="model",
        help="hashed: the scale mode, stored vectors are deterministic pseudo-vectors and NER "
        "is skipped, so 100k articles fit on a laptop (default: model, the real embedder)",
    )
    p.add_argument(
        "--corpus",
        metavar="DIR",
        help="the scale mode on a real articles folder instead of a generated corpus",
    )
    p.add_argument(
        "--no-server",
        action="store_true",
        help="scale mode: skip the Chroma server measurement",
    )
    p.add_argument(
        "--server-articles",
        type=int,
        metavar="N",
        help="scale mode: generated articles ingested into the server (default: min(N, 10000))",
    )
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    p.add_argument(
        "--workdir", metavar="DIR", help="keep the corpus and stores here (default: a temp dir)"
    )
    p.add_argument(
        "--runs", type=int, metavar="K", help="repeats of the cheap measurements (default 3)"
    )
    p.add_argument(
        "--heavy-runs",
        type=int,
        metavar="K",
        help="repeats of the full-corpus embedding passes (default: 1 at 10k, up to 3 when small)",
    )
    p.add_argument("--no-tui", action="store_true", help="skip the TUI start-up measurement")
    return parser


def _engine(args: argparse.Namespace) -> Any:
    from qa.api import get_engine

    top_k = getattr(args, "top_k", None)
    if top_k is not None and top_k < 1:
        raise UserError("--top-k must be at least 1")
    return get_engine(
        store=args.store,
        seeds=args.seeds,
        chroma_url=args.chroma_url,
        top_k=top_k,
        llm=getattr(args, "llm", None),
    )


class _ProgressBar:
    """Ingest progress on stderr: a redrawn line on a terminal; elsewhere (a log, a pipe) a line
    when a phase first starts and one every few seconds, so a long run never looks stuck (and a
    streaming ingest, whose phases take turns batch by batch, does not print per batch)."""

    EVERY = 5.0  # seconds between lines on a non-terminal

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.drawn = False
        self.phase = ""
        self.last = 0.0
        self.seen: set[str] = set()

    def __call__(self, phase: str, done: int, total: int) -> None:
        import time

        now = time.monotonic()
        if phase == "waiting":
            self.close()
            sys.stderr.write("another ingest is writing to this store; waiting for it to finish…\n")
            sys.stderr.flush()
            self.phase = phase
            return
        first = phase not in self.seen
        if not self.tty and not first and now - self.last < self.EVERY:
            return
        self.seen.add(phase)
        self.phase, self.last = phase, now
        width = 30
        filled = width * done // total if total else 0
        line = f"{self.label}: {phase} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
        if self.tty:
            sys.stderr.write(f"\r{line:<80}")
            self.drawn = True
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            self.drawn = False


def cmd_ingest(args: argparse.Namespace) -> int:
    bar = _ProgressBar("ingest")
    try:
        report = _engine(args).ingest(rebuild=args.rebuild, progress=bar)
    finally:
        bar.close()
    print(json.dumps(report.to_dict()) if args.json else report.summary())
    return 0


def visible_marked(answer: Any) -> str:
    """The answer text, terminal-safe, with its spans in bold (`visible` keeps every offset)."""
    from dataclasses import replace

    return str(replace(answer, text=visible(answer.text)).marked("\x1b[1m", "\x1b[0m"))


def format_answer(answer: Any) -> str:
    """The answer (its answer spans bold on a terminal), then its numbered sources and quotes."""
    text = textwrap.fill(visible(answer.text), 100)
    if sys.stdout.isatty() and answer.spans and text.replace("\n", " ") == answer.text:
        text = textwrap.fill(visible_marked(answer), 100)
    lines = [text]
    if answer.answered_by:
        lines.append(f"(answered by {answer.answered_by}, citations checked)")
    if answer.query and answer.query != answer.question:
        lines.append(f"(searched for: {answer.query})")
    if answer.sources:
        lines.append("")
        lines.append("Sources:")
    for s in answer.sources:
        meta = visible(" · ".join(x for x in (s.title, s.date, s.file) if x))
        lines.append(f"[{s.n}] {meta}")
        lines.append(
            textwrap.fill(
                f"“{visible(' '.join(s.quote.split()))}”",
                100,
                initial_indent="    ",
                subsequent_indent="    ",
            )
        )
    return "\n".join(lines)


def _streamed(stream: Any, live: bool) -> Any:
    """Run `stream` to its answer; on a terminal, show the model's draft as it is written."""
    from qa.types import Delta

    drafted = False
    for event in stream:
        if live and stream.label and isinstance(event, Delta):
            if not drafted:
                sys.stdout.write(f"\x1b[2m{stream.label} is writing (unchecked):\n")
                drafted = True
            sys.stdout.write(visible(event.text))
            sys.stdout.flush()
    if drafted:
        sys.stdout.write("\x1b[0m\n\n")
        sys.stdout.flush()
    return stream.result()


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.api import Chat
    from qa.filters import Filters

    if not args.question.strip():
        raise UserError("the question is empty")
    Filters.build(args.since, args.until, args.source)  # a bad date fails before any work
    engine = _engine(args)
    chat = Chat(engine=engine, llm=args.llm)  # a malformed --llm fails before any work
    bar = _ProgressBar("first run: embedding the articles")
    try:
        engine.ensure_ingested(progress=bar)
    finally:
        bar.close()
    stream = chat.ask_stream(args.question, since=args.since, until=args.until, sources=args.source)
    answer = _streamed(stream, live=sys.stdout.isatty() and not args.json)
    for warning in answer.warnings:
        print(f"newsqa: warning: {warning}", file=sys.stderr)
    print(
        json.dumps(answer.to_dict(), ensure_ascii=False, indent=2)
        if args.json
        else format_answer(answer)
    )
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    info = _engine(args).status()
    if args.json:
        print(json.dumps(info, sort_keys=True))
    else:
        for key, value in info.items():
            print(f"{key:>14}: {value}")
    return 0


def _eval_settings(args: argparse.Namespace) -> Any:
    from qa.settings import Settings

    if args.bbc:
        settings = Settings.bbc()
        if not settings.seeds_dir.is_dir():
            raise UserError(f"the BBC corpus is not at {settings.seeds_dir} (set QA_BBC_DIR)")
        return settings.with_overrides(store=args.store, chroma_url=args.chroma_url)
    return _engine(args).settings


def cmd_eval(args: argparse.Namespace) -> int:
    from pathlib import Path

    from qa.tools.evaluation import BBC_DEV, SEED_SETS, evaluate, format_reports, load_set

    paths = [Path(p) for p in args.question_sets or []] or ([BBC_DEV] if args.bbc else SEED_SETS)
    settings = _eval_settings(args)
    payload: dict[str, Any] = {}
    for path in paths:
        reports = evaluate(settings, load_set(path), ablations=not args.no_ablations, llm=args.llm)
        if args.json:
            payload[path.name] = {
                "metrics": reports[0].metrics(),
                "ablations": {r.name: r.metrics() for r in reports},
                **({"llm_outcomes": reports[0].llm_outcomes()} if reports[0].generative else {}),
                **({"failures": reports[0].failures()} if args.failures else {}),
            }
            continue
        print(format_reports(path.name, reports) + "\n")
        if args.failures:
            for f in reports[0].failures():
                print(
                    f"{f['id']} {' / '.join(f['context'] + [f['question']])}\n"
                    f"  query: {f['query']}\n  got:   {f['answer']} (p={f['confidence']})\n"
                    f"  cited: {', '.join(f['cited']) or '-'}\n"
                    f"  gold:  {f['gold']} in {', '.join(f['gold_sources']) or '-'}\n"
                )
    if args.json:
        print(json.dumps(payload, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from qa.reader.model import MODEL_PATH, expected_sha256
    from qa.settings import Settings
    from qa.tools.evaluation import BBC_DEV, SETS_DIR
    from qa.tools.training import train, write_model

    settings = Settings.bbc()
    if not settings.seeds_dir.is_dir():
        raise UserError(f"the BBC corpus is not at {settings.seeds_dir} (set QA_BBC_DIR)")

    def log(message: str) -> None:
        print(f"train: {message}", file=sys.stderr, flush=True)

    model, stats = train(settings, SETS_DIR / "bbc_train.jsonl", BBC_DEV, log)
    if args.check:
        import hashlib

        digest = hashlib.sha256(model.to_json().encode("utf-8")).hexdigest()
        shipped = expected_sha256(MODEL_PATH)
        if digest != shipped:
            raise UserError(f"retrained model has sha256 {digest}, the shipped one {shipped}")
        print(f"retraining reproduces {MODEL_PATH.name} (sha256 {digest})")
        return 0
    digest = write_model(model)
    print(f"wrote {MODEL_PATH} (sha256 {digest}); threshold {model.threshold:.4f}; {stats}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    """Open the chat UI, found through the `newsqa.ui` entry point (the library never names it)."""
    from importlib.metadata import entry_points

    if args.llm:
        from qa.generative.spec import parse_spec

        parse_spec(args.llm)  # a malformed --llm is one line here, not an error in the chat
    found = [ep for ep in entry_points(group="newsqa.ui") if ep.name == "chat"]
    if not found:
        raise UserError("the chat UI is not installed; run: pip install -e .")
    found[0].load()(_engine(args))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from pathlib import Path

    from qa.tools.bench import DEFAULT_ARTICLES, Runs, run_bench
    from qa.tools.scale import SERVER_ARTICLES, ScaleOptions

    for flag, value in (
        ("--runs", args.runs),
        ("--heavy-runs", args.heavy_runs),
        ("--server-articles", args.server_articles),
    ):
        if value is not None and value < 1:
            raise UserError(f"{flag} must be at least 1")
    if args.corpus and args.articles is not None:
        raise UserError("--corpus takes the articles in DIR: --articles does not apply")
    articles = DEFAULT_ARTICLES if args.articles is None else args.articles
    runs = None
    if args.runs is not None or args.heavy_runs is not None:
        auto = Runs.auto(int(articles * 1.3))
        runs = Runs(heavy=args.heavy_runs or auto.heavy, light=args.runs or auto.light)
    scale = None
    if args.vectors == "hashed" or args.corpus:
        scale = ScaleOptions(
            articles=articles,
            vectors=args.vectors,
            corpus=Path(args.corpus) if args.corpus else None,
            server=not args.no_server,
            server_articles=args.server_articles or SERVER_ARTICLES,
        )

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    result = run_bench(
        articles,
        workdir=Path(args.workdir) if args.workdir else None,
        runs=runs,
        log=log,
        tui=not args.no_tui,
        scale=scale,
    )
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.table())
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "ingest": cmd_ingest,
    "ask": cmd_ask,
    "status": cmd_status,
    "eval": cmd_eval,
    "train": cmd_train,
    "chat": cmd_chat,
    "bench": cmd_bench,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return COMMANDS[args.command](args)
    except UserError as exc:
        print(f"newsqa: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `newsqa ask … | head`: the reader left, nothing more to say
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print(
            "newsqa: interrupted (an interrupted ingest resumes on the next run)", file=sys.stderr
        )
        return 130


if __name__ == "__main__":
    sys.exit(main())
