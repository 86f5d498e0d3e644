"""Who is writing: the facts a collector needs to tell a live writer from a dead one."""

import os


def process_start_ticks(pid: int) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None where /proc is absent.

    A pid alone is reused by the OS; pid plus start time names one process, so a
    collector cannot mistake a new process for a writer that died.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 overall
    except (IndexError, ValueError):
        return None


def process_alive(pid: int, pstart: int | None) -> bool:
    """True when ``pid`` runs and (where known) is the same process that started at ``pstart``."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    if pstart is None:
        return True
    now = process_start_ticks(pid)
    return now is None or now == pstart


def hostname() -> str:
    """The host name (``os.uname``: no ``socket`` import on the capture path)."""
    return os.uname().nodename
