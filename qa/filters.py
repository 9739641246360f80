"""Restricting retrieval by article date and file."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Any

from qa.errors import UserError

_PARTIAL_DATE = re.compile(r"^(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?$")


def date_bound(value: str, *, upper: bool) -> int:
    """'2021', '2021-07' or '2021-07-08' as YYYYMMDD; a partial date covers its whole period."""
    m = _PARTIAL_DATE.match(value.strip())
    if not m:
        raise UserError(f"dates look like 2021, 2021-07 or 2021-07-08, got {value!r}")
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else (12 if upper else 1)
    if not 1 <= month <= 12:
        raise UserError(f"no month {month} in {value!r}")
    last = calendar.monthrange(year, month)[1]
    day = int(m.group(3)) if m.group(3) else (last if upper else 1)
    if not 1 <= day <= last:
        raise UserError(f"no day {day} in {value!r}")
    return year * 10000 + month * 100 + day


@dataclass(frozen=True)
class Filters:
    """since/until are inclusive YYYYMMDD bounds; files restricts to these article files."""

    since: int | None = None
    until: int | None = None
    files: tuple[str, ...] | None = None

    @classmethod
    def build(
        cls, since: str | None = None, until: str | None = None, sources: Any = None
    ) -> Filters:
        files: tuple[str, ...] | None = None
        if sources is not None:
            files = (sources,) if isinstance(sources, str) else tuple(str(s) for s in sources)
        lo = date_bound(since, upper=False) if since else None
        hi = date_bound(until, upper=True) if until else None
        if lo is not None and hi is not None and lo > hi:
            raise UserError(f"--since {since} is after --until {until}")
        return cls(lo, hi, files)

    @property
    def empty(self) -> bool:
        return self.since is None and self.until is None and self.files is None

    def accepts(self, meta: dict[str, Any]) -> bool:
        """Same rule as `chroma_where`: undated articles fail any date bound."""
        if self.files is not None and meta.get("file") not in self.files:
            return False
        date = meta.get("date_int")
        if self.since is not None and (not isinstance(date, int) or date < self.since):
            return False
        return not (self.until is not None and (not isinstance(date, int) or date > self.until))

    def describe(self) -> str:
        """The filter in the words of the command line, e.g. `--source a.txt --since 2021-01-01`."""
        parts = [f"--source {f}" for f in self.files or ()]
        for flag, bound in (("--since", self.since), ("--until", self.until)):
            if bound is not None:
                parts.append(
                    f"{flag} {bound // 10000:04d}-{bound // 100 % 100:02d}-{bound % 100:02d}"
                )
        return " ".join(parts)

    def chroma_where(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.files is not None:
            clauses.append({"file": {"$in": list(self.files)}})
        if self.since is not None:
            clauses.append({"date_int": {"$gte": self.since}})
        if self.until is not None:
            clauses.append({"date_int": {"$lte": self.until}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}
