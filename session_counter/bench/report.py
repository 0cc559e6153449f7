"""Presenting a bench report: turns what run_bench returns into two tables (what safety
costs, session-store scaling), one line per target saying whether it holds, and one line
saying how and on what machine the figures were measured, and prints them as Markdown
(for the README) or with rich.
"""

import os
import platform

import click


def machine():
    """Describe the machine: CPUs, CPU model, Python, OS."""
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f
                          if line.startswith("model name")), model)
    except OSError:
        pass
    return {"nproc": len(os.sched_getaffinity(0)), "cpu": model,
            "python": platform.python_version(), "system": platform.platform(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def num(value, spec=".2f"):
    """Format a number for a table; '-' for a missing one."""
    return "-" if value is None else format(value, spec)


def spread(values):
    """Format the lowest and highest per-round ratio."""
    values = [v for v in values if v is not None]
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def safe_against(scopes):
    """Say what a strategy is safe against; blank for rows that are not strategies."""
    return "" if scopes is None else ", ".join(scopes) or "nothing"


def rate(row):
    """Format a row's req/s; a row where no request finished says so, not 0."""
    return "none completed" if row.get("none_completed") else num(row["req_per_s"], ",.0f")


def tables(report):
    """Return (title, header, rows) of the result tables (empty ones are not printed)."""
    rows = report["rows"]
    safety = [[r["label"], safe_against(r["safe_against"]), rate(r),
               num(r["ratio"]), spread(r["round_ratios"]), num(r["p50_ms"]), num(r["p99_ms"]),
               num(r["cpu_us_per_request"], ".0f"), num(r["cpu_ratio"]), str(r["errors"])]
              for r in rows if r["sessions"] is None]
    scaling = [[f"{r['sessions']:,}", rate(r), num(r["ms_per_request"], ".3f"),
                num(r["cost_ratio"]), spread(r["round_ratios"]), num(r["p50_ms"]),
                num(r["p99_ms"]), num(r["cpu_us_per_request"], ".0f"), num(r["cpu_cost_ratio"]),
                str(r["errors"])] for r in rows if r["sessions"] is not None]
    bursts = [[r["label"], safe_against(r["safe_against"]), num(r["burst_ms_median"], ".1f"),
               num(r["burst_ms_max"], ".1f"), num(r["retries_per_request"]),
               num(r["most_retries"], "d"), str(r["errors"])]
              for r in report.get("contention", [])]
    clients = report["settings"].get("contention")
    return [("What does safety cost?",
             ["target", "safe against", "req/s", "vs bare", "rounds", "p50 ms", "p99 ms",
              "CPU us/req", "CPU vs bare", "errors"], safety),
            ("Session-store scaling: POST /inc",
             ["sessions stored", "req/s", "ms/req", "cost vs fewest", "rounds", "p50 ms",
              "p99 ms", "CPU us/req", "CPU cost vs fewest", "errors"], scaling),
            (f"Under contention: bursts of {clients} simultaneous clients",
             ["target", "safe against", "burst ms (median)", "burst ms (max)",
              "retries/request", "most retries", "errors"], bursts)]


def check_lines(report):
    """One line per target: holds or misses (by how much), by req/s and by server CPU."""
    lines = []
    for c in report["checks"]:
        verdict = "holds" if c["holds"] else "MISSES"
        short = f", {c['miss_by']:.0%} short" if c["miss_by"] else ""
        short_cpu = f", {c['miss_by_cpu']:.0%} short" if c.get("miss_by_cpu") else ""
        lines.append(f"{verdict}: {c['what']}: {num(c['got'])} by req/s{short}; "
                     f"{num(c['got_cpu'])} by server CPU per request{short_cpu} "
                     f"(want {c['op']} {c['want']})")
    return lines


def none_completed_lines(report):
    """Say, per row where no request finished inside the run, why it has no figures."""
    return [f"none completed: {r['label']}: no request finished within a round (wrk counts "
            "only finished ones: those still in flight are neither requests nor errors), so "
            "no req/s and no ratio; a first request that starts something (the manager) "
            "can outlast the run: keep --warmup above it"
            for r in report["rows"] if r.get("none_completed")]


def settings_line(report):
    """Say how and where the figures were measured."""
    s, m = report["settings"], report["machine"]
    return (f"{s['load_generator']} -> {s['model']}, {s['workers']} workers, "
            f"{s['connections']} connections, {s['rounds']} rounds x {s['duration']:g} s per "
            f"target; {m['nproc']} CPUs ({m['cpu']}), Python {m['python']}, load average "
            f"{m['load_average'][0]:.2f} before the run")


def print_markdown(report):
    """Print the tables as Markdown, for the README."""
    for title, header, rows in tables(report):
        if rows:
            click.echo(f"\n**{title}**\n\n| " + " | ".join(header) + " |\n|"
                       + "---|" * len(header))
            for row in rows:
                click.echo("| " + " | ".join(row) + " |")
    click.echo("")
    for line in none_completed_lines(report) + check_lines(report):
        click.echo(f"- {line}")
    click.echo(f"\n{settings_line(report)}")


def print_rich(report):
    """Print the tables with rich."""
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 150  # a file or a pipe: do not wrap the table at 80 columns
    for title, header, rows in tables(report):
        if rows:
            table = Table(title=title)
            for i, name in enumerate(header):
                table.add_column(name, justify="left" if i == 0 else "right")
            for row in rows:
                table.add_row(*row)
            console.print(table)
    for line in none_completed_lines(report) + check_lines(report):
        console.print(line, style="green" if line.startswith("holds") else "bold red")
    console.print(settings_line(report))
