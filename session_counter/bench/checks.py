"""The issue's targets, checked against what a bench run measured (req/s and server CPU)."""

from .trees import tree_pairs

TARGETS = {"lock_ratio": 0.85, "strategy_ratio": 0.85, "scaling_cost": 1.2, "vs_cookie": 1.0}


def quotient(a, b):
    """Return a / b, or None when either is unknown or b is 0 (a target that answered nothing)."""
    return a / b if a is not None and b else None


def check_targets(by_key, scaling):
    """Compare the issue's three targets with the req/s measured (and with server CPU)."""
    checks = []

    def check(what, got, got_cpu, op, want):
        def meets(value):
            return value is not None and (value >= want if op == ">=" else value <= want)

        def miss(value):
            return None if meets(value) or value is None else abs(value - want) / want
        checks.append({"what": what, "op": op, "want": want, "got": got, "holds": meets(got),
                       "miss_by": miss(got), "got_cpu": got_cpu,
                       "holds_by_cpu": meets(got_cpu), "miss_by_cpu": miss(got_cpu)})

    inc = by_key["inc_lock"]
    check("per-client /inc, lock on, vs bare route", inc["ratio"], inc["cpu_ratio"], ">=",
          TARGETS["lock_ratio"])
    cookie = by_key.get("inc_cookie")
    if cookie:
        check("per-client /inc, files + lock, vs the cookie store's /inc",
              quotient(inc["req_per_s"], cookie["req_per_s"]),
              quotient(cookie["cpu_us_per_request"], inc["cpu_us_per_request"]), ">=",
              TARGETS["vs_cookie"])
    for label, tree_inc, tree_cookie in tree_pairs(by_key):
        check(f"[{label}] per-client /inc, files + lock, vs the cookie store's /inc",
              quotient(tree_inc["req_per_s"], tree_cookie["req_per_s"]),
              quotient(tree_cookie["cpu_us_per_request"], tree_inc["cpu_us_per_request"]),
              ">=", TARGETS["vs_cookie"])
    naive = by_key.get("shared_naive_global")
    embedded = [row for row in by_key.values() if row["safe_against"] and row["server"] == "main"
                and "processes" in row["safe_against"] and "machines" not in row["safe_against"]]
    if embedded and naive:
        best = max(embedded, key=lambda row: row["req_per_s"] or 0)
        check(f"best process-safe embedded strategy ({best['key'][7:]}) vs naive_global",
              quotient(best["req_per_s"], naive["req_per_s"]),
              quotient(naive["cpu_us_per_request"], best["cpu_us_per_request"]), ">=",
              TARGETS["strategy_ratio"])
    if len(scaling) > 1:
        most = scaling[-1]
        check(f"/inc cost with {most['sessions']:,} sessions vs {scaling[0]['sessions']:,}",
              most["cost_ratio"], most["cpu_cost_ratio"], "<=", TARGETS["scaling_cost"])
    return checks
