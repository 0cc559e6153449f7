"""race --matrix: every strategy under every server model, in one run and one table."""

import textwrap
import time

from ..servers import SERVER_MODELS, describe_model
from .lab import LabError, LabSettings, run_lab

SKIPPED = "not raced"


def run_matrix(options, on_step=lambda description, done, total: None):
    """Race every strategy once per server model; return {"models", "rows", "seconds", ...}.

    ``options`` are LabSettings fields shared by every model (clients, window, stores...);
    each model gets its own defaults for workers and threads. A model that cannot start
    is reported, not fatal.
    """
    started, columns, rows, failed, skipped = time.monotonic(), [], {}, {}, {}
    for n, model in enumerate(SERVER_MODELS):
        on_step(f"{model}: racing every strategy", n, len(SERVER_MODELS))
        settings = LabSettings(**{**options, "server": model})
        columns.append(describe_model(model, settings.workers, settings.threads))
        try:
            report = run_lab(settings)
        except LabError as error:
            failed[model] = str(error)
            continue
        for run in report.runs:
            rows.setdefault(run.strategy, {})[columns[-1]] = cell(run.summary())
        for item in report.skipped:
            rows.setdefault(item["strategy"], {})[columns[-1]] = SKIPPED
            skipped[item["strategy"]] = item["reason"]
    on_step("done", len(SERVER_MODELS), len(SERVER_MODELS))
    never = [name for name, cells in rows.items() if set(cells.values()) == {SKIPPED}]
    return {"models": columns, "rows": {k: v for k, v in rows.items() if k not in never},
            "failed": failed, "skipped": skipped, "never_raced": never,
            "seconds": round(time.monotonic() - started, 1)}


def cell(summary):
    """Return what one strategy got under one model: the verdict, with the distinct count."""
    if summary["exact_rounds"] == summary["rounds"] and not summary["lost_updates"]:
        return summary["verdict"]
    return f"{summary['distinct']} distinct: {summary['verdict']}"


def markdown(matrix, caption):
    """Return the matrix as a Markdown table (strategies by server model)."""
    lines = ["| strategy | " + " | ".join(matrix["models"]) + " |",
             "|---|" + "---|" * len(matrix["models"])]
    for name, cells in matrix["rows"].items():
        lines.append(f"| `{name}` | " + " | ".join(cells.get(m, "") for m in matrix["models"])
                     + " |")
    return "\n".join(lines) + "\n\n" + caption + "\n" + failures(matrix)


def text(matrix, caption, width):
    """Return the matrix for a terminal of ``width`` columns: one block per strategy."""
    out = []
    for name, cells in matrix["rows"].items():
        out.append(name)
        for model in matrix["models"]:
            out += textwrap.wrap(f"{model}: {cells.get(model, '')}", width - 2,
                                 initial_indent="  ", subsequent_indent="      ",
                                 break_long_words=False)
    return "\n".join(out + textwrap.wrap(caption, width)) + "\n" + failures(matrix)


def failures(matrix):
    """Say which models did not run, and which strategies were not raced, and why."""
    text = "".join(f"\n{model} did not run: {why}\n" for model, why in matrix["failed"].items())
    by_reason = {}
    for name, why in matrix["skipped"].items():
        where = "" if name in matrix["never_raced"] else " under some models"
        by_reason.setdefault((where, why), []).append(f"`{name}`")
    for (where, why), names in by_reason.items():
        text += f"\nNot raced{where}: {', '.join(names)}: {why}.\n"
    return text
