"""A follow-up whose reference cannot be resolved is searched with the previous turn's words,
not by its own words first (they name no topic and find other articles)."""

from __future__ import annotations

from pathlib import Path

from qa import Chat, get_engine

ASSETS = (
    "Libya takes back its frozen assets\n\n"
    "Libya has withdrawn $1.2bn in previously frozen assets from US banks after the trade ban "
    "was lifted last month. When the ban began the frozen funds had originally been worth "
    "$400m, the US Treasury said. The rest is interest earned over eighteen years.\n"
)
DONATIONS = (
    "Watchdog warns over party funding\n\n"
    "How large private donations to parties should be is a question the elections watchdog "
    "has been asked again. Parties had originally relied on many small donors, it said, but "
    "large gifts from a few wealthy backers now dominate their accounts.\n"
)


def test_an_unresolved_follow_up_searches_the_previous_turns_words(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "assets.txt").write_text(ASSETS, encoding="utf-8")
    (seeds / "donations.txt").write_text(DONATIONS, encoding="utf-8")
    engine = get_engine(store=tmp_path / "store", seeds=seeds)
    engine.ingest()
    chat = Chat(engine=engine)
    first = chat.ask("How much in previously frozen assets did Libya withdraw from US banks?")
    assert "$1.2bn" in first.text and first.sources[0].file == "assets.txt"
    answer = chat.ask("And how large had those funds been originally?")
    assert answer.found and "$400m" in answer.text
    assert answer.sources[0].file == "assets.txt"
