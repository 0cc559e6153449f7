"""Ground truth of the race lab: what a round of simultaneous requests really produced,
and the lab's report of a whole run (every round of every strategy).

Pure functions, no I/O. A counter that was reset before the run must hand out
start, start+1, ..., start+sent-1, each exactly once, and end up storing
start-1+sent. Anything else is a race made visible.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from .model import Answer, RaceResult
from .story import TRACE_FIELDS, stories


def _count(n: int, singular: str, plural: str | None = None) -> str:
    """Return '1 gap' / '3 gaps' style text."""
    return f"{n} {singular if n == 1 else (plural or singular + 's')}"


def count_gaps(seen, start: int) -> int:
    """Count the integers in start..max(seen) that are not in ``seen``.

    Counted from the distinct values, not by walking every integer up to the largest:
    the cost follows the number of answers, whatever values they hold.
    """
    if not seen:
        return 0
    top = max(seen)
    handed_out = sum(1 for v in seen if start <= v <= top)
    return max(0, top - start + 1 - handed_out)


def analyse(strategy: str, answers: list[Answer], *, final_value: int | None,
            wall_time: float, window: float = 0.0, start: int = 1) -> RaceResult:
    """Count duplicates, gaps, lost updates and errors of one round against start..start+sent-1.

    sent is len(answers): every client fired, including those that errored.
    answers counts status-200 answers with an integer value; errors is the rest.
    lost_updates = (start - 1 + sent) - final_value, i.e. sent - final_value for
    start=1; a request that errored still counts as sent, because the server may
    have incremented before the client gave up, so an error alone is never
    excused as "not a lost update". Negative means more increments than requests.
    exact requires at least one request; values outside start..start+sent-1
    are reported in the verdict as "out of range".
    """
    sent = len(answers)
    values = [a.value for a in answers
              if a.status == 200 and isinstance(a.value, int) and not isinstance(a.value, bool)]
    seen = Counter(values)
    answered, distinct = len(values), len(seen)
    end = start + sent - 1
    gaps = count_gaps(seen, start)
    out_of_range = sum(1 for v in values if not start <= v <= end)
    lost = None if final_value is None else (start - 1 + sent) - final_value
    pids = sorted({a.pid for a in answers if isinstance(a.pid, int)})
    carried = [a.retries for a in answers if a.status == 200 and isinstance(a.retries, int)]
    exact = sent > 0 and answered == sent and sorted(values) == list(range(start, end + 1))

    if answered == 0:
        verdict = "no answers"
    else:
        problems = []
        if sent - answered:
            problems.append(_count(sent - answered, "error"))
        if answered - distinct:
            problems.append(_count(answered - distinct, "duplicate"))
        if gaps:
            problems.append(_count(gaps, "gap"))
        if out_of_range:
            problems.append(f"{out_of_range} out of range")
        if lost:
            problems.append(_count(lost, "lost update") if lost > 0
                            else _count(-lost, "extra update"))
        if problems:
            problems.append(_count(len(pids), "process", "processes"))
            verdict = ", ".join(problems)
        else:
            verdict = f"exactly {start}..{end}"

    return RaceResult(
        strategy=strategy, sent=sent, answers=answered, errors=sent - answered,
        distinct=distinct, duplicates=answered - distinct,
        duplicated_values=sorted(v for v, c in seen.items() if c > 1),
        gaps=gaps, final_value=final_value, lost_updates=lost, pids=pids,
        wall_time=wall_time, window=window, exact=exact, verdict=verdict,
        retries=sum(carried) if carried else None,
        **traced(answers),
    )


def traced(answers: list[Answer]) -> dict:
    """Return {"trace", "stories"} of a round whose answers carry traces, else {}."""
    if not any(a.trace for a in answers):
        return {}
    trace = [{"value": a.value if a.status == 200 else None,
              **{k: (a.trace or {}).get(k) for k in TRACE_FIELDS if k != "value"}}
             for a in answers]
    return {"trace": trace, "stories": stories(trace)}


def merge_rounds(results: list[RaceResult]) -> dict:
    """Total several rounds of one strategy into a JSON-ready summary with a one-line verdict."""
    rounds = len(results)
    known_lost = [r.lost_updates for r in results if r.lost_updates is not None]
    totals = {
        "rounds": rounds,
        "exact_rounds": sum(1 for r in results if r.exact),
        "sent": sum(r.sent for r in results),
        "errors": sum(r.errors for r in results),
        "duplicates": sum(r.duplicates for r in results),
        "gaps": sum(r.gaps for r in results),
        "lost_updates": sum(known_lost) if known_lost else None,
        "pids": sorted({p for r in results for p in r.pids}),
        "retries": (sum(r.retries for r in results if r.retries is not None)
                    if any(r.retries is not None for r in results) else None),
    }
    if rounds == 0:
        verdict = "no rounds"
    elif totals["exact_rounds"] == rounds and not any(known_lost):
        verdict = f"exact in {rounds} of {rounds} rounds"
    else:
        parts = []
        for label, attr in (("duplicates", "duplicates"), ("gaps", "gaps"),
                            ("lost updates", "lost_updates"), ("errors", "errors")):
            hit = [getattr(r, attr) for r in results if getattr(r, attr)]
            if hit:
                parts.append(f"{label} in {len(hit)} of {rounds} rounds ({sum(hit)} in all)")
        verdict = "; ".join(parts) or f"exact in {totals['exact_rounds']} of {rounds} rounds"
    totals["verdict"] = verdict
    return totals


@dataclass
class StrategyRun:
    """Every round of one strategy (or one session-lock setting) and what to say about it."""

    strategy: str
    scope: str
    results: list[RaceResult] = field(default_factory=list)
    # where the strategy sits in the matrix, and its label, as /api/strategies says
    store: str | None = None
    technique: str | None = None
    safe_against: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    inconclusive: bool = False
    # --same-session: the per-client store raced, and its lock (None: no lock applies)
    session_store: str | None = None
    session_lock: bool | None = None

    def note(self, text):
        """Add a note once."""
        if text not in self.notes:
            self.notes.append(text)

    def summary(self):
        """Return merge_rounds() of the rounds, with the final values and mean wall time."""
        summary = merge_rounds(self.results)
        finals = [r.final_value for r in self.results]
        summary["final_values"] = finals
        summary["distinct"] = sum(r.distinct for r in self.results)
        summary["answers"] = sum(r.answers for r in self.results)
        summary["wall_time_mean"] = (sum(r.wall_time for r in self.results) / len(self.results)
                                     if self.results else 0.0)
        if len(self.results) == 1:
            summary["verdict"] = self.results[0].verdict
        if self.inconclusive:
            summary["verdict"] = "inconclusive: " + summary["verdict"]
        return summary

    def to_dict(self):
        """Return the JSON form: summary, every round, notes."""
        found = {"strategy": self.strategy, "scope": self.scope, "store": self.store,
                 "technique": self.technique, "safe_against": self.safe_against,
                 "summary": self.summary(),
                 "rounds": [r.to_dict() for r in self.results], "notes": self.notes,
                 "inconclusive": self.inconclusive}
        if self.session_store is not None:
            found.update(session_store=self.session_store, session_lock=self.session_lock)
        return found


@dataclass
class LabReport:
    """The outcome of one lab run."""

    mode: str  # "shared" or "same-session"
    settings: dict
    runs: list[StrategyRun] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)  # the URL of every server it started

    def to_dict(self):
        """Return the JSON form of the whole run."""
        return {"mode": self.mode, "settings": self.settings,
                "results": [run.to_dict() for run in self.runs],
                "skipped": self.skipped, "notes": self.notes, "servers": self.servers}
