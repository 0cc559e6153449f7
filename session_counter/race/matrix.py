"""The race lab's results as the matrix: stores (rows) by technique (columns).

Each cell names its strategies, the widest scope each claims to be safe against, and
what the race found, so the pattern shows at a glance: the column decides, not the row.
"""

from ..strategies import SCOPES, STORES, TECHNIQUES


def claimed(run):
    """Return the widest scope a run's strategy claims to be safe against ("nothing")."""
    safe = [scope for scope in SCOPES if scope in run.get("safe_against", [])]
    return safe[-1] if safe else "nothing"


def outcome(run):
    """Return what the race found for one strategy, in a few words."""
    summary = run["summary"]
    if summary["exact_rounds"] == summary["rounds"] and not summary["lost_updates"]:
        found = (run["rounds"][0]["verdict"] if summary["rounds"] == 1
                 else f"exact in {summary['rounds']} of {summary['rounds']} rounds")
    else:
        parts = [f"{summary[key]} {label}" for key, label in (
            ("duplicates", "duplicates"), ("lost_updates", "lost updates"),
            ("errors", "errors")) if summary[key]]
        found = ", ".join(parts) or summary["verdict"]
    if summary.get("retries") is not None:
        found += f", {summary['retries']} retries"
    return found


def matrix_rows(results):
    """Return [(store label, [[(name, claimed scope, outcome)] per technique])]."""
    rows = {}
    for run in results:
        cells = rows.setdefault(run.get("store"), [[] for _ in TECHNIQUES])
        column = (TECHNIQUES.index(run["technique"]) if run.get("technique") in TECHNIQUES
                  else 0)
        cells[column].append((run["strategy"], claimed(run), outcome(run)))
    order = [store for store in STORES if store in rows] + [s for s in rows if s not in STORES]
    return [(STORES.get(store, str(store)), rows[store]) for store in order]


def markdown(results, caption, skipped=()):
    """Return the matrix as a Markdown table; below it ``caption`` and what was not raced."""
    lines = ["| store | " + " | ".join(TECHNIQUES) + " |",
             "|---|" + "---|" * len(TECHNIQUES)]
    for store, cells in matrix_rows(results):
        texts = ["<br>".join(f"`{name}` ({scope}): {found}" for name, scope, found in cell)
                 for cell in cells]
        lines.append(f"| {store} | " + " | ".join(texts) + " |")
    text = "\n".join(lines) + f"\n\n{caption}; in brackets: what each claims to be safe against.\n"
    for item in skipped:
        text += f"\nNot raced: `{item['strategy']}` ({item['reason']}).\n"
    return text
