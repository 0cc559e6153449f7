"""What Linux's /proc says about processes: the one parser of /proc/<pid>/stat.

The harness (worker pids), the bench (a server's CPU time), the manager strategy (is
its manager process still the same one) and the fault tests all read processes here.
"""

import os
from typing import NamedTuple


class ProcessStat(NamedTuple):
    """The fields of /proc/<pid>/stat that the project reads."""

    pid: int
    state: str  # R, S, D, Z (zombie), X (dead)...
    ppid: int
    pgrp: int
    cpu_ticks: int  # utime + stime, in clock ticks
    start_ticks: int  # start time in clock ticks since boot: tells two lives of a pid apart


def read_stat(pid):
    """Return the ProcessStat of ``pid``, or None if there is no such process (any more)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
        # the command name (field 2) may hold spaces and parentheses: split after its last ")"
        fields = raw.rsplit(")", 1)[1].split()
        return ProcessStat(int(pid), fields[0], int(fields[1]), int(fields[2]),
                           int(fields[11]) + int(fields[12]), int(fields[19]))
    except (OSError, IndexError, ValueError):  # gone meanwhile, or not a pid
        return None


def is_gone(pid):
    """Tell whether ``pid`` has exited (a zombie waiting for its parent counts as gone)."""
    stat = read_stat(pid)
    return stat is None or stat.state in ("Z", "X")


def all_processes():
    """Return the ProcessStat of every process running now."""
    stats = (read_stat(entry.name) for entry in os.scandir("/proc") if entry.name.isdigit())
    return [stat for stat in stats if stat is not None]


def children_of(pid):
    """Return the pids of the live processes whose parent is ``pid``."""
    return {stat.pid for stat in all_processes() if stat.ppid == pid and stat.state not in "ZX"}


def group_cpu_seconds(pgrp):
    """Return the CPU time (user + system) used so far by the processes of group ``pgrp``."""
    ticks = sum(stat.cpu_ticks for stat in all_processes() if stat.pgrp == pgrp)
    return ticks / os.sysconf("SC_CLK_TCK")
