"""A bounded load test: 1,000 questions from 4 threads on one engine while another process ingests
new articles into the same store. Every question succeeds, answers are identical between ingests,
the engine notices the other process's articles, and memory stays bounded."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

from conftest import PROJECT, copy_seeds

import qa
from qa.articles import read_article_text
from qa.types import Answer

TOTAL = 1000
THREADS = 4
BEFORE = 300  # questions asked before the other process starts its ingest
DURING_CAP = 700  # at most this many started before it has finished: ≥ 300 are left for after
# Peak RSS of the load's own process (the query path: onnxruntime, Chroma, the reader; no spaCy,
# since both ingests run in subprocesses), measured on this 2-core machine: ~415 MB, of which the
# load itself added ~8 MB. 700 MB fails a leak of a few hundred KB per question.
PEAK_RSS_BOUND_MB = 700
RSS_GROWTH_BOUND_MB = 300

NEW_FILE = "900_new_hydrology.txt"
NEW_QUESTION = "Who was appointed chief hydrologist of the Caspian Water Authority?"
NEW_ANSWER = "Mirela Vondracek"
NEW_ARTICLES = {
    NEW_FILE: (
        " date 2022-03-14 By Staff Reporter\n\n"
        "Mirela Vondracek was appointed chief hydrologist of the Caspian Water Authority on "
        "March 12, 2022, the authority said in a statement.\n\n"
        "Vondracek, who previously led the authority's sediment laboratory, will oversee the "
        "monitoring of water levels along the northern shore.\n\n"
        "The authority said the new post was created after two dry summers in a row.\n"
    ),
    "901_new_ferry.txt": (
        " date 2022-04-02 By Staff Reporter\n\n"
        "A new ferry line between two northern ports will open in the autumn, the port operator "
        "announced on Friday.\n\n"
        "The operator said 14 vessels would serve the route and that tickets would go on sale "
        "in August.\n"
    ),
    "902_new_orchard.txt": (
        " date 2022-05-20 By Staff Reporter\n\n"
        "Apricot growers in the foothills expect a record harvest this year after a mild "
        "spring, a growers' association said.\n\n"
        "The association estimated the crop at 41,000 tonnes, up from 35,000 tonnes last year.\n"
    ),
}
QUESTIONS = [
    "Who is the Prosecutor General of Azerbaijan?",
    "Who is Azerbaijan's Minister of Defense?",
    "When did the three leaders sign the second statement?",
    "Who attended the meeting as Azerbaijani ambassador to Moscow?",
    "Which Iranian diplomat did the Azerbaijani prosecutor meet?",
    "What did the Caspian littoral states sign?",
    "Who won the 2022 FIFA World Cup?",
    "Where will the Conference of Prosecutors General of Europe be held?",
    "How many vessels will serve the new ferry route?",
    NEW_QUESTION,
]


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM; ru_maxrss would carry the parent's peak
    across fork and exec, e.g. pytest's)."""
    return _status_mb("VmHWM")


def current_rss_mb() -> float:
    """Resident memory now (VmRSS), to see growth the lifetime peak would hide."""
    return _status_mb("VmRSS")


def answer_key(answer: Answer) -> tuple[Any, ...]:
    """What must not differ between two answers to one question over one store state."""
    return (
        answer.text,
        answer.found,
        tuple((s.n, s.file, s.start, s.end, s.quote) for s in answer.sources),
        tuple((s.n, s.start, s.end, s.at, s.to, s.text) for s in answer.spans),
    )


def test_thousand_questions_from_four_threads_while_another_process_ingests(
    tmp_path: Path,
) -> None:
    """Run in a process of its own, so its peak RSS is the load's, not the test suite's."""
    tests = str(Path(__file__).parent)
    code = (
        f"import sys; sys.path[:0] = [{tests!r}]\n"
        "from pathlib import Path\nimport test_load\n"
        f"test_load.run_load(Path({str(tmp_path)!r}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=1500
    )
    assert out.returncode == 0, out.stderr[-4000:]
    assert "answers per phase" in out.stdout, out.stdout
    print(out.stdout.strip().splitlines()[-1])  # shown with -s: the phases and the memory


def run_load(tmp_path: Path) -> None:
    """The load itself; every check is an assert (the calling test shows the failing one)."""
    seeds, store = copy_seeds(tmp_path / "seeds"), tmp_path / "store"
    args = ["--seeds", str(seeds), "--store", str(store)]
    first = subprocess.run(
        [sys.executable, "-m", "qa", "ingest", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert first.returncode == 0, first.stderr

    engine = qa.get_engine(store=store, seeds=seeds)
    engine.warm_up()
    texts: dict[str, str] = {}
    texts_lock = threading.Lock()

    def check(answer: Answer) -> None:
        """Every answer, whenever asked, cites verbatim text of a real article."""
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer.text)}
        assert markers == {s.n for s in answer.sources}
        for s in answer.sources:
            with texts_lock:
                if s.file not in texts:
                    texts[s.file] = read_article_text(seeds / s.file)
                text = texts[s.file]
            assert text[s.start : s.end] == s.quote

    rss_start, now_start = peak_rss_mb(), current_rss_mb()
    phase = 0  # 0 before the other ingest, 1 while it runs, 2 after it finished
    issued = 0
    cv = threading.Condition()
    records: list[tuple[int, int, int, tuple[Any, ...]]] = []  # phase at start, at end, q, key
    failures: list[str] = []
    before_done = threading.Event()

    def ticket() -> int | None:
        nonlocal issued
        with cv:
            while True:
                if issued >= TOTAL:
                    return None
                allowed = BEFORE if phase == 0 else DURING_CAP if phase == 1 else TOTAL
                if issued < allowed:
                    issued += 1
                    return issued - 1
                before_done.set()
                cv.wait()

    def worker() -> None:
        while (n := ticket()) is not None:
            q = n % len(QUESTIONS)
            at_start = phase
            try:
                answer = engine.ask(QUESTIONS[q])
                check(answer)
            except BaseException as exc:  # noqa: BLE001 - every failure is reported at the end
                with cv:
                    failures.append(f"#{n} {QUESTIONS[q]!r}: {type(exc).__name__}: {exc}")
                continue
            with cv:
                records.append((at_start, phase, q, answer_key(answer)))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(THREADS)]
    for t in threads:
        t.start()
    assert before_done.wait(timeout=600), "the first 300 questions never finished"
    with cv:  # all 300 'before' tickets are out; wait for their answers
        while len(records) + len(failures) < BEFORE:
            cv.wait(timeout=1)

    for name, body in NEW_ARTICLES.items():
        (seeds / name).write_text(body, encoding="utf-8")
    with cv:
        phase = 1
        cv.notify_all()
    other = subprocess.run(  # another process ingests while the threads keep asking
        [sys.executable, "-m", "qa", "ingest", "--json", *args],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    with cv:
        phase = 2
        cv.notify_all()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "a worker thread hung"
    assert other.returncode == 0, other.stderr
    assert '"added": 3' in other.stdout, other.stdout

    assert not failures, f"{len(failures)} of {TOTAL} questions failed:\n" + "\n".join(
        failures[:20]
    )
    assert len(records) == TOTAL

    by_phase: dict[tuple[int, int], set[tuple[Any, ...]]] = defaultdict(set)
    for start, end, q, key in records:
        if start == end and start in (0, 2):
            by_phase[start, q].add(key)
    assert sum(1 for start, end, *_ in records if start == end == 2) >= TOTAL - DURING_CAP
    for (ph, q), keys in sorted(by_phase.items()):
        when = "before" if ph == 0 else "after"
        assert len(keys) == 1, f"{QUESTIONS[q]!r} got {len(keys)} different answers {when} ingest"

    # the other process's article is seen: answered from it after, never before
    [old_new] = by_phase[0, QUESTIONS.index(NEW_QUESTION)]
    assert all(file != NEW_FILE for _, file, *_ in old_new[2])
    [after_new] = by_phase[2, QUESTIONS.index(NEW_QUESTION)]
    assert after_new[1] and after_new[2][0][1] == NEW_FILE and NEW_ANSWER in after_new[0]
    answer = engine.ask(NEW_QUESTION)
    assert answer.found and answer.sources[0].file == NEW_FILE and NEW_ANSWER in answer.text
    assert answer.warnings == ()  # the other ingest finished: the store is complete
    assert engine.status()["articles"] == 8

    peak, now = peak_rss_mb(), current_rss_mb()
    counts = {p: sum(1 for a, b, *_ in records if a == b == p) for p in (0, 1, 2)}
    print(
        f"answers per phase {counts}; peak RSS {rss_start:.0f} MB before the load, {peak:.0f} MB "
        f"after; current RSS {now_start:.0f} → {now:.0f} MB"
    )
    assert peak < PEAK_RSS_BOUND_MB, f"peak RSS {peak:.0f} MB (bound {PEAK_RSS_BOUND_MB} MB)"
    # After warm-up the load itself (1,000 questions, one reopen after the other ingest) grew
    # resident memory by ~20 MB when measured; 300 MB would mean something piles up per question.
    assert now - now_start < RSS_GROWTH_BOUND_MB, f"RSS grew {now - now_start:.0f} MB under load"
