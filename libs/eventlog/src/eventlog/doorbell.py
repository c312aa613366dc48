"""Cross-process wake-ups for the SQLite log: a Unix datagram "doorbell" per listener.

Owns the wake-up directory of one SQLite file and the datagrams sent through it. A
process that waits for appends binds one datagram socket in the directory; a process
that commits an append sends a one-byte datagram to every socket there. It is only a
hint: a datagram may be lost (full buffer, socket file removed, process killed), so a
waiter must always keep a bounded fallback poll. It must never be needed for
correctness and must never block or fail an append.

A reader that checks on its own schedule rather than waiting (a web process, before
each request) uses a `DoorbellWatch` instead: the same socket, no thread, drained
without blocking when asked.

The directory sits next to the database (`<db>.wake`), so processes in different
containers that share the database's volume share it too. Unix socket paths are capped
at 107 bytes; for a database whose path is too long, both sides derive the same short
directory under the system temporary directory from a hash of the database's path.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from eventlog.port import AppendWatch

_MAX_SOCKET_PATH = 107
_NAME_LENGTH = 32
"""Room kept for a socket's file name ("<pid>-<16 hex>.sock")."""


def wake_directory(database: Path) -> Path:
    """The directory every process opening `database` uses for its doorbells."""
    resolved = database.resolve()
    beside = resolved.with_name(resolved.name + ".wake")
    if len(os.fsencode(beside)) + 1 + _NAME_LENGTH <= _MAX_SOCKET_PATH:
        return beside
    digest = hashlib.sha256(os.fsencode(resolved)).hexdigest()[:24]
    return Path(tempfile.gettempdir()) / f"firewatch-wake-{digest}"


class Ringer:
    """The sending side: rings every doorbell in the directory after a commit."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._directory_text = os.fspath(directory)
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._seen_mtime: int | None = None
        self._targets: list[str] = []
        self.sent = 0
        """Datagrams handed to the kernel (a test's proof that the path was taken)."""

    def ring(self, skip: str | None = None) -> None:
        """Send one datagram to every listener but `skip` (our own, woken in-process).
        Never raises: a missed wake-up only costs the listener its fallback poll."""
        try:
            targets = self._current_targets()
        except OSError:
            return
        if not targets or targets == [skip]:
            return
        with self._lock:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            sender = self._socket
            for target in targets:
                if target == skip:
                    continue
                try:
                    sender.sendto(b"!", target)
                    self.sent += 1
                except BlockingIOError:
                    pass  # its buffer is full of wake-ups already
                except OSError as exc:
                    if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                        # Left behind by a killed process: nobody can bind it again
                        # (names are unique), so removing it is safe.
                        with contextlib.suppress(OSError):
                            os.unlink(target)

    def _current_targets(self) -> list[str]:
        # One stat per append; the listing is re-read only when a listener came or went.
        directory = self._directory_text
        if self._seen_mtime is None and not os.access(directory, os.F_OK):
            # No listener has ever made the directory: the common case for a process
            # whose log nobody else follows. access() answers without the exception a
            # failed stat() costs (a third of a ring).
            return []
        try:
            mtime = os.stat(directory).st_mtime_ns
        except FileNotFoundError:
            self._seen_mtime = None
            self._targets = []
            return []
        if mtime != self._seen_mtime:
            with os.scandir(directory) as entries:
                self._targets = [e.path for e in entries if e.name.endswith(".sock")]
            self._seen_mtime = mtime
        return self._targets

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


class Doorbell:
    """The receiving side: one bound socket and a daemon thread that calls `on_ring`
    for every burst of datagrams (several pending datagrams make one call)."""

    def __init__(self, directory: Path, on_ring: Callable[[], None]) -> None:
        self.directory = directory
        self.path = str(directory / f"{os.getpid()}-{uuid.uuid4().hex[:16]}.sock")
        self._on_ring = on_ring
        self._closed = False
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            for last_try in (False, True):
                directory.mkdir(parents=True, exist_ok=True)
                try:
                    self._socket.bind(self.path)
                    break
                except FileNotFoundError:
                    # The last listener's close removed the directory between our
                    # mkdir and bind: make it again, once.
                    if last_try:
                        raise
        except OSError:
            self._socket.close()
            raise
        self.pid = os.getpid()
        self.received = 0
        self._thread = threading.Thread(target=self._listen, name="eventlog-doorbell", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        listener = self._socket
        while True:
            try:
                listener.recv(64)
            except OSError:
                return
            if self._closed:
                break
            # Drain the burst: one wake-up is enough for any number of appends.
            listener.setblocking(False)
            count = 1
            with contextlib.suppress(BlockingIOError):
                while True:
                    listener.recv(64)
                    count += 1
            listener.setblocking(True)
            self.received += count
            self._on_ring()
        listener.close()

    @property
    def alive(self) -> bool:
        """Bound in this process and its file still there (else nobody can ring it)."""
        return self.pid == os.getpid() and not self._closed and os.path.exists(self.path)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        # Wake the thread so it closes the socket itself (closing a socket under a
        # blocked recv in another thread does not reliably wake it); shutdown covers
        # a socket whose file was removed and so cannot be sent to.
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(b"x", self.path)
        with contextlib.suppress(OSError):
            self._socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        # The last listener out removes the directory, so closed logs (and tests)
        # leave no `<db>.wake` or /tmp/firewatch-wake-* behind. Fails harmlessly
        # while another listener's socket is still in it.
        with contextlib.suppress(OSError):
            os.rmdir(self.directory)


class DoorbellWatch(AppendWatch):
    """A doorbell without a thread, for a reader that checks on its own schedule (a web
    process, before each request): `appended()` drains its socket without blocking.

    Read-your-writes across processes: a ringer sends after its COMMIT and before the
    append's call returns, so once an append has returned anywhere its datagram is
    already queued here, and the next `appended()` says yes. Because the doorbell is
    only a hint, `appended()` also says yes once every `fallback_seconds` without a
    ring (a lost datagram costs at most that much staleness, never an event), and
    always when it has no socket (it could not bind, or the process forked)."""

    def __init__(
        self,
        directory: Path,
        *,
        fallback_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.directory = directory
        self.fallback_seconds = fallback_seconds
        self._clock = clock
        self._socket: socket.socket | None = None
        self.path = ""
        self._pid = 0
        self._next_poll = 0.0
        self._closed = False
        self.received = 0
        """Datagrams drained (a test's proof that the wake-up path was taken)."""
        self._bind()

    def _bind(self) -> None:
        self._release()
        path = str(self.directory / f"{os.getpid()}-{uuid.uuid4().hex[:16]}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            listener.setblocking(False)
            for last_try in (False, True):
                self.directory.mkdir(parents=True, exist_ok=True)
                try:
                    listener.bind(path)
                    break
                except FileNotFoundError:
                    # The last listener's close removed the directory between our
                    # mkdir and bind: make it again, once.
                    if last_try:
                        raise
        except OSError:
            listener.close()
            return  # no socket: every call says yes (the log is read every time)
        self._socket, self.path, self._pid = listener, path, os.getpid()

    def appended(self) -> bool:
        listener = self._socket
        if listener is None or self._pid != os.getpid():
            if not self._closed:
                self._bind()
            return True
        rung = False
        try:
            while True:  # one yes for any number of appends
                listener.recv(64)
                self.received += 1
                rung = True
        except BlockingIOError:
            pass
        except OSError:
            self._release()
            return True
        now = self._clock()
        if rung:
            self._next_poll = now + self.fallback_seconds
            return True
        if now < self._next_poll:
            return False
        # The fallback: a datagram may have been lost. A socket file removed from the
        # directory cannot be rung any more, so bind a fresh one.
        self._next_poll = now + self.fallback_seconds
        if not os.path.exists(self.path):
            self._bind()
        return True

    def _release(self) -> None:
        listener, self._socket = self._socket, None
        if listener is None:
            return
        listener.close()
        if self._pid == os.getpid():
            with contextlib.suppress(OSError):
                os.unlink(self.path)
            # The last listener out removes the directory (fails while others are in it).
            with contextlib.suppress(OSError):
                os.rmdir(self.directory)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._closed = True
        self._release()
