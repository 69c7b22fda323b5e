"""Work never outlives its server.

A solver process's parent is the multiprocessing forkserver, not the server, and the
forkserver outlives a killed server. So a solver asks the kernel to kill it when its
parent dies (Linux ``PR_SET_PDEATHSIG``) and watches the server's process id: once the
server is gone it kills the forkserver (which takes every other solver with it) and exits.

At startup a server fails the active jobs and batches of runners on the same host whose
process no longer exists, at once, instead of waiting for their heartbeats to go stale.
(Servers sharing a host name are assumed to share a process-id namespace, as on one
machine or in one container.)
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent() -> bool:
    """Have the kernel SIGKILL this process when its parent dies; False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() == 1:  # the parent died before the request was made
        os._exit(1)
    return True


WATCH_S = 0.5


def _gone(pid: int) -> bool:
    """Whether process ``pid`` no longer exists or is a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def watch_server(server_pid: int) -> threading.Thread:
    """A daemon thread ending this process (and its forkserver parent) when the server dies."""

    def watch() -> None:
        while not _gone(server_pid):
            time.sleep(WATCH_S)
        parent = os.getppid()
        if parent not in (1, server_pid):  # the forkserver: useless without its server
            with contextlib.suppress(OSError):
                os.kill(parent, signal.SIGKILL)
        os._exit(1)

    thread = threading.Thread(target=watch, name="server-watch", daemon=True)
    thread.start()
    return thread


def host_prefix() -> str:
    """The start of every runner id of this host (see `JobRunner.runner_id`)."""
    return f"{socket.gethostname()[:24]}:"


def is_dead_local(runner_id: str) -> bool:
    """Whether ``runner_id`` names a server process of this host that no longer exists."""
    if not runner_id.startswith(host_prefix()):
        return False
    parts = runner_id[len(host_prefix()) :].split(":")
    if not parts or not parts[0].isdigit():
        return False
    pid = int(parts[0])
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, owned by someone else
        return False
    return False


__all__ = ["die_with_parent", "host_prefix", "is_dead_local", "watch_server"]
