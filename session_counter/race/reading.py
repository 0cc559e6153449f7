"""How the lab reads a counter back: where it lives, its final value, whether a reset hit it.

Where a counter lives decides how it can be reset and read back:
  process   a module global: every worker process has its own copy
  instance  a file or process of one server (cache, sqlite, file_lock, manager)
  global    a store every instance shares (redis)
Pure functions over model.Answer; the terminal lab and the page's API share them.
"""

SCOPES = ("process", "instance", "global")


def state_scope(description):
    """Return where a strategy's counter lives, from its /api/strategies entry."""
    scope = description.get("state_lives_in")
    return scope if scope in SCOPES else "instance"


def final_from_reads(scope, counted, reads):
    """Return (final value or None, note) from GET /shared/<s> answers after a round.

    ``counted`` is the set of (instance, pid) that answered the round. A per-process
    counter's final value is the sum of the copies of those processes; an instance's
    counter is summed over instances; a global counter is read once.
    """
    got = {}
    for read in reads:
        if read.status == 200 and isinstance(read.value, int):
            key = (read.instance, read.pid) if scope == "process" else read.instance
            got[key] = read.value
    if scope == "process":
        missing = counted - got.keys()
        if missing:
            return None, (f"final value unknown: {len(missing)} of {len(counted)} processes "
                          "that counted could not be read back (a process forked per request "
                          "takes its copy with it)")
        note = (f"final value: the sum of {len(counted)} per-process copies of the counter"
                if len(counted) > 1 else None)
        return sum(got[key] for key in counted), note
    if not got:
        return None, "final value unknown: the counter could not be read back"
    if scope == "global":
        return next(iter(got.values())), None
    if len(got) > 1:
        return sum(got.values()), f"final value: the sum of {len(got)} instances' own counters"
    return next(iter(got.values())), None


def stale_note(scope, counted, reset):
    """Return a note if processes answered the round that no reset reached (else None)."""
    stale = {pid for _, pid in counted - reset} if scope == "process" else set()
    if not stale:
        return None
    return (f"process(es) {', '.join(map(str, sorted(stale)))} answered but no reset reached "
            "them: their numbers may continue an earlier run")
