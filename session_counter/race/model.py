"""A race's data model: one client's Answer, and the RaceResult of one round.

The simultaneous client makes Answers, the page's API parses them, the report and the
reading judge them; none of them owns the idea, so it lives here.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Answer:
    """One client's outcome; status 0 means no HTTP answer (see error)."""

    status: int
    value: int | None
    pid: int | None
    thread: str | None
    instance: str | None
    error: str | None
    elapsed: float  # seconds from the barrier release to the answer (or failure)
    retries: int | None = None  # swaps a compare-and-swap strategy lost before it won
    trace: dict | None = None  # the server's measured trace, when asked (race --trace)


@dataclass
class RaceResult:
    """Outcome of one round of one strategy, as counted by analyse()."""

    strategy: str
    sent: int
    answers: int  # status 200 with an integer value
    errors: int  # everything else: sent - answers
    distinct: int
    duplicates: int  # answers whose value was already handed out: answers - distinct
    duplicated_values: list[int] = field(default_factory=list)
    gaps: int = 0  # integers in start..max(values) never handed out
    final_value: int | None = None
    lost_updates: int | None = None
    pids: list[int] = field(default_factory=list)
    wall_time: float = 0.0
    window: float = 0.0
    exact: bool = False
    verdict: str = ""
    retries: int | None = None  # compare-and-swap: swaps lost and retried, summed (else None)
    # race --trace: every client's trace (client n is trace[n-1]) and the round's stories
    trace: list | None = None
    stories: dict | None = None

    def to_dict(self) -> dict:
        """Return a JSON-ready dict of every field (trace and stories only when traced)."""
        data = asdict(self)
        if self.trace is None:
            del data["trace"], data["stories"]
        return data
