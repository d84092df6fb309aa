"""One training run over several processes (multi-host, `jax.distributed`), failing clearly.

    python train.py ... --coordinator-address HOST:PORT --num-processes N --process-id I

Every process runs the same command with its own `--process-id`; process 0 starts the
coordinator on PORT (on every interface of its host) and the others join it at HOST:PORT. The
games are then split over the devices of all processes (`jax.devices()` is global) and the
gradients are averaged by XLA's collectives (gloo over TCP on CPU).

`jax.distributed.initialize` does not fail gracefully: a coordinator port already in use
crashes the process (a segmentation fault in gRPC), and a coordinator or a process that never
comes aborts it with a C++ stack trace after its timeout. `initialize` here checks first and
bounds the wait: process 0 checks that the port is free, the others wait for the coordinator
to answer (DistributedError, a ValueError, when it does not within the timeout), and a watchdog
ends the process with one clear line on stderr and exit status 2 when not every process joined
in time (the C++ call cannot be interrupted any other way).

`any_process(flag)`: a stop decision (Ctrl-C, SIGTERM) that every process takes at the same
chunk, so that no process waits forever in a collective the others left.
"""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
import time

import jax
import numpy as np
from jax.experimental import multihost_utils

# Extra seconds granted to jax's own initialization timeout, so that the watchdog (which gives
# the clear message) always fires first.
_BACKSTOP_S = 60
_EXIT_STATUS = 2  # as the CLI's other errors


class DistributedError(ValueError):
    """Multi-host flags that cannot work: the coordinator's port is in use, no coordinator
    answered in time, jax.distributed already set up differently."""


def split_address(address: str) -> tuple[str, int]:
    """(host, port) of "HOST:PORT" ("[::1]:PORT" for IPv6); ValueError when malformed."""
    if not isinstance(address, str) or ":" not in address:
        raise ValueError("not HOST:PORT")
    host, port_text = address.rsplit(":", 1)
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or any(c.isspace() for c in address):
        raise ValueError("not HOST:PORT")
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise ValueError("the port is not in 1..65535")
    return host, int(port_text)


def _flag_of(address: str) -> str:
    return f"--coordinator-address={address}"


def _check_port_free(address: str, port: int) -> None:
    """Process 0: the coordinator binds PORT on every interface; fail now if it cannot."""
    families = [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")] if socket.has_ipv6 \
        else [(socket.AF_INET, "0.0.0.0")]
    last = None
    for family, any_host in families:
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError as exc:  # no IPv6 on this host: try IPv4
            last = exc
            continue
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gRPC (TIME_WAIT ok)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            sock.bind((any_host, port))
            return
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE and family == socket.AF_INET6:
                last = exc  # IPv6 not configured here: try IPv4
                continue
            raise DistributedError(
                f"{_flag_of(address)}: process 0 starts the coordinator on port {port}, but "
                f"that port is in use on this host ({exc.strerror or exc}): choose a free port "
                "for every process's --coordinator-address") from exc
        finally:
            sock.close()
    raise DistributedError(f"{_flag_of(address)}: cannot open a socket to check port {port} "
                           f"({last})")


def _answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _wait_for_coordinator(address: str, host: str, port: int, process_id: int,
                          deadline: float, timeout_s: float) -> None:
    """Processes > 0: poll HOST:PORT until the coordinator answers or the deadline passes."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise DistributedError(f"{_flag_of(address)}: cannot resolve host {host!r} "
                               f"({exc.strerror or exc})") from exc
    while not _answers(host, port, timeout=max(0.1, min(1.0, deadline - time.monotonic()))):
        if time.monotonic() >= deadline:
            raise DistributedError(
                f"{_flag_of(address)}: process {process_id} waited {timeout_s:g}s and no "
                f"coordinator answered at {host}:{port}: start process 0 (--process-id 0) on "
                f"that host with the same --coordinator-address, or give it more time with "
                f"--coordinator-timeout-s")
        time.sleep(0.25)


def _watchdog(done: threading.Event, seconds: float, message: str) -> threading.Thread:
    """A daemon thread that ends the process with `message` unless `done` is set in time."""

    def watch():
        if done.wait(seconds):
            return
        try:
            sys.stderr.write(f"error: {message}\n")
            sys.stderr.flush()
        finally:
            os._exit(_EXIT_STATUS)

    thread = threading.Thread(target=watch, name="jax.distributed watchdog", daemon=True)
    thread.start()
    return thread


def initialize(address: str, num_processes: int, process_id: int, timeout_s: float) -> None:
    """`jax.distributed.initialize` for process `process_id` of `num_processes`, bounded by
    `timeout_s` seconds for the coordinator and every process to join.

    Raises DistributedError (before anything is started) for a port in use (process 0), a
    coordinator that never answered (the others) or a process already set up as another one.
    When the coordinator answers but not every process joins in time, the process ends with
    exit status 2 and one line on stderr saying so: jax would otherwise abort it later with a
    C++ stack trace, and its call cannot be interrupted."""
    if jax.distributed.is_initialized():
        if (jax.process_count(), jax.process_index()) == (num_processes, process_id):
            return  # already joined as this very process (a second run in the same program)
        raise DistributedError(
            f"jax.distributed is already initialized here as process {jax.process_index()} of "
            f"{jax.process_count()}, not --process-id={process_id} of "
            f"--num-processes={num_processes}: one process joins one multi-host run")
    host, port = split_address(address)
    deadline = time.monotonic() + timeout_s
    if process_id == 0:
        _check_port_free(address, port)
        why = (f"process 0 started the coordinator at {address}, but not all {num_processes} "
               f"processes joined within {timeout_s:g}s: start every --process-id 0.."
               f"{num_processes - 1} with the same --coordinator-address and --num-processes "
               "(or give them more time with --coordinator-timeout-s)")
    else:
        _wait_for_coordinator(address, host, port, process_id, deadline, timeout_s)
        why = (f"process {process_id} reached the coordinator at {address}, but not all "
               f"{num_processes} processes joined within {timeout_s:g}s: start every "
               f"--process-id 0..{num_processes - 1} with the same --coordinator-address and "
               "--num-processes (or give them more time with --coordinator-timeout-s)")
    # jax's preemption service would take SIGTERM over from the run's own handler (which
    # checkpoints after the running chunk, on every process at once: any_process).
    jax.config.update("jax_enable_preemption_service", False)
    done = threading.Event()
    _watchdog(done, max(0.0, deadline - time.monotonic()), why)
    try:
        jax.distributed.initialize(coordinator_address=address, num_processes=num_processes,
                                   process_id=process_id,
                                   initialization_timeout=int(timeout_s) + _BACKSTOP_S)
    except Exception as exc:  # noqa: BLE001 - reported as one clear line
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        raise DistributedError(f"{_flag_of(address)}: jax.distributed.initialize failed for "
                               f"process {process_id} of {num_processes}: {lines[0]}") from exc
    finally:
        done.set()


def any_process(flag: bool) -> bool:
    """True on every process when `flag` is True on any of them (one process alone: `flag`).
    A collective: every process must call it at the same point of the run."""
    if jax.process_count() == 1:
        return bool(flag)
    flags = multihost_utils.process_allgather(np.asarray(bool(flag), dtype=np.int32))
    return bool(np.any(flags))
