"""What Linux's /proc says about processes: one parser of /proc/<pid>/stat for all users."""

import os
from typing import NamedTuple


class ProcessStat(NamedTuple):
    """The fields of /proc/<pid>/stat the harness and the bench read."""

    pid: int
    ppid: int
    pgrp: int
    cpu_ticks: int  # utime + stime, in clock ticks


def read_stat(pid):
    """Return the ProcessStat of ``pid``, or None if it has ended."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:  # the process has just ended
        return None
    # the command name (field 2) may hold spaces and parentheses: split after its last ")"
    fields = raw.rsplit(")", 1)[1].split()
    return ProcessStat(int(pid), int(fields[1]), int(fields[2]),
                       int(fields[11]) + int(fields[12]))


def all_processes():
    """Return the ProcessStat of every process running now."""
    stats = (read_stat(entry.name) for entry in os.scandir("/proc") if entry.name.isdigit())
    return [stat for stat in stats if stat is not None]


def children_of(pid):
    """Return the pids of the processes whose parent is ``pid``."""
    return {stat.pid for stat in all_processes() if stat.ppid == pid}


def group_cpu_seconds(pgrp):
    """Return the CPU time (user + system) used so far by the processes of group ``pgrp``."""
    ticks = sum(stat.cpu_ticks for stat in all_processes() if stat.pgrp == pgrp)
    return ticks / os.sysconf("SC_CLK_TCK")
