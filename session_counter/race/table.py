"""The race lab's table in the terminal: fits the terminal (80 columns too), with a legend."""

import os

import click

from .glossary import GLOSSARY, terms_in
from .judged import EXACT_NOT_SAFE

# (header, legend) of every column; the narrow table leaves out what the others imply.
COLUMNS = {
    "strategy": "",
    "sent": "requests fired at once",
    "answers": "answered 200 with a number",
    "distinct": "different numbers among the answers",
    "dup": "how many duplicates",
    "gaps": "how many gaps",
    "final": "the value stored afterwards",
    "lost": "how many lost updates (negative: extra updates)",
    "retries": "lost compare-and-swap attempts, retried",
    "pids": "processes that answered",
    "wall s": "seconds from the release to the last answer",
    "verdict": "",
}
NARROW = ("strategy", "sent", "dup", "gaps", "final", "lost", "retries", "pids", "verdict")
WIDE_FROM = 130  # columns: below it, the narrow table
PIPED_WIDTH = 160  # rich assumes 80 columns when stdout is not a terminal and COLUMNS is unset


def row_of(run):
    """Return the table cells of one strategy (rounds added up when there are several)."""
    summary = run.summary()
    finals = [value for value in summary["final_values"] if value is not None]
    if not finals:
        final = "unknown"
    elif min(finals) == max(finals):
        final = str(finals[0])
    else:
        final = f"{min(finals)}-{max(finals)}"
    lost = summary["lost_updates"]
    pids = max((len(r.pids) for r in run.results), default=0)  # per round: servers may restart
    retries = summary.get("retries")
    name = f"{run.strategy}\n({run.technique})" if run.technique else run.strategy
    cells = (name, str(summary["sent"]), str(summary["answers"]),
             str(summary["distinct"]), str(summary["duplicates"]), str(summary["gaps"]),
             final, "unknown" if lost is None else str(lost),
             "" if retries is None else str(retries), str(pids),
             f"{summary['wall_time_mean']:.2f}", summary["verdict"])
    return dict(zip(COLUMNS, cells, strict=True))


def console_for_output():
    """Return a rich Console as wide as the terminal, COLUMNS if set, else PIPED_WIDTH."""
    from rich.console import Console

    console = Console()
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(width=PIPED_WIDTH)
    return console


def print_report(report, caption):
    """Print the table (a rich table when it fits, else narrow lines), its legend, the notes."""
    console = console_for_output()
    rows = [(run, row_of(run)) for run in report.runs]
    needed = sum(max([len(c)] + [len(line) for _, cells in rows for line in cells[c].split("\n")])
                 + 3 for c in COLUMNS)
    if needed + 4 <= console.width:  # a margin for the table's edges
        columns = list(COLUMNS)
        print_table(console, report, rows, caption)
    else:
        columns = list(NARROW)
        print_narrow(console, report, rows, caption)
    console.print(legend(columns), highlight=False, markup=False)
    console.print(verdict_words(report, console.width), highlight=False, markup=False)
    for run in report.runs:
        for note in run.notes:
            console.print(f"{run.strategy}: {note}", highlight=False, markup=False)
    for item in report.skipped:
        console.print(f"skipped {item['strategy']}: {item['reason']}",
                      highlight=False, markup=False)
    for note in report.notes:
        console.print(note, highlight=False, markup=False)


def style_of(run):
    """Return the row's colour: green exact, red not, yellow inconclusive."""
    summary = run.summary()
    clean = summary["exact_rounds"] == summary["rounds"] and not summary["lost_updates"]
    return "yellow" if run.inconclusive else ("green" if clean else "red")


def first_header(report):
    return "session" if report.mode == "same-session" else "strategy"


def title_of(report):
    return ("One client's session, many simultaneous requests" if report.mode == "same-session"
            else "Shared counters, many simultaneous clients")


def print_table(console, report, rows, caption):
    """Print every column in one rich table (it fits: print_report measured it)."""
    from rich import box
    from rich.table import Table

    table = Table(title=title_of(report), caption=caption, box=box.SIMPLE_HEAD)
    for column in COLUMNS:
        text = column in ("strategy", "verdict")
        table.add_column(first_header(report) if column == "strategy" else column,
                         justify="left" if text else "right", no_wrap=True)
    for i, (run, cells) in enumerate(rows):
        last_of_store = i + 1 == len(rows) or rows[i + 1][0].store != run.store
        table.add_row(*cells.values(), style=style_of(run), end_section=last_of_store)
    console.print(table)


def print_narrow(console, report, rows, caption):
    """Print one line of numbers per strategy and its verdict wrapped below: nothing cut."""
    import textwrap

    from rich.text import Text

    width = console.width
    numbers = [c for c in NARROW if c not in ("strategy", "verdict")]
    widths = {c: max([len(c)] + [len(cells[c]) for _, cells in rows]) for c in numbers}
    room = width - sum(widths[c] + 1 for c in numbers) - 1
    longest = max([len(first_header(report))] + [len(run.strategy) for run, _ in rows])
    name_width = max(8, min(longest, room))

    def line(name, cells):
        return f"{name:<{name_width}} " + " ".join(f"{cells[c]:>{widths[c]}}" for c in numbers)

    console.print(title_of(report), highlight=False, markup=False)
    header = line(first_header(report), {c: c for c in numbers})
    console.print(header, highlight=False, markup=False)
    console.print("-" * min(len(header), width), highlight=False, markup=False)
    for run, cells in rows:
        name, technique = (cells["strategy"].split("\n") + [""])[:2]
        technique = technique.strip("()")
        if len(name) > name_width:  # a long name gets its own line, the numbers the next
            console.print(Text(name, style=style_of(run)))
            name = ""
        console.print(Text(line(name, cells), style=style_of(run)))
        verdict = f"{technique}: {cells['verdict']}" if technique else cells["verdict"]
        for part in textwrap.wrap(verdict, width - 2, break_long_words=False):
            console.print(Text("  " + part, style=style_of(run)))
    for part in textwrap.wrap(caption, width):
        console.print(part, highlight=False, markup=False)


def legend(columns):
    """Return one line per column header: what it counts."""
    return "\n".join(f"  {c}: {COLUMNS[c]}" for c in columns if COLUMNS[c])


# the words the columns count: always defined, whatever the verdicts say
COLUMN_TERMS = ("duplicate", "gap", "lost update")


def verdict_words(report, width):
    """Return the glossary's definitions of the columns' words and of every word the
    verdicts and notes use, wrapped to ``width`` (race/glossary.py, as the page says them)."""
    import textwrap

    said = [run.summary()["verdict"] for run in report.runs]
    # of the notes, only the reading's name: their reasons use "gap" for the code's gap
    said += [EXACT_NOT_SAFE for run in report.runs for note in run.notes
             if note.startswith(EXACT_NOT_SAFE)]
    used = terms_in(*said, *COLUMN_TERMS)
    lines = ["What the words mean:"]
    for term in used:
        lines += textwrap.wrap(f"{term}: {GLOSSARY[term]}", width, initial_indent="  ",
                               subsequent_indent="    ", break_long_words=False)
    return "\n".join(lines)


def print_stories(report):
    """Print each round's first duplicate and first lost update, told from the traces."""
    for run in report.runs:
        for n, result in enumerate(run.results, 1):
            for kind, story in (result.stories or {}).items():
                if story:
                    click.echo(f"\n{run.strategy}, round {n}, first "
                               f"{kind.replace('_', ' ')}: {story['text']}")
