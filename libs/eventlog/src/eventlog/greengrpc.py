"""Making grpcio clients (esdbclient included) safe inside eventlet-patched processes.

Why this exists: nameko 2.14 workers run on eventlet, and `eventlet.monkey_patch()`
swaps `threading`, `time`, `queue` and friends for green versions. Stock grpcio then
breaks (upstream grpc/grpc#15923; measured in ../shared/STACK-NOTES.md, "grpcio and
eventlet"): grpc's Python layer builds its call state on `threading.Condition`s and runs
a polling thread that blocks inside C, so with green primitives a server-streaming call
never finishes, esdbclient's first append hangs the process, and even a unary call that
does return freezes every other greenthread while it waits.

What worked, and what this module does:
1. grpc's Python layer must use the ORIGINAL `threading`/`time`/`queue` modules and so
   get real OS threads and real locks. `native_imports()` imports grpc and esdbclient
   while `sys.modules` holds eventlet's originals (`eventlet.patcher.original`), so
   every module they import binds the real ones; `rebind_to_originals()` repairs
   modules that were imported before the process was patched (their module objects were
   patched in place).
2. Every client call must leave the eventlet hub's thread: `call()` runs it in eventlet's
   pool of real OS threads (`eventlet.tpool.execute`), so the calling greenthread waits
   cooperatively and other greenthreads keep running. A call must do all its gRPC work
   inside the function it hands over (e.g. `list()` a streaming response there): gRPC
   objects must never be iterated from a greenthread.

Outside an eventlet-patched process every function here is a no-op or a direct call,
and eventlet is not imported, so the event log does not depend on it. Reuse this module
for any other gRPC client that has to run inside a nameko worker.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

NATIVE_MODULES: tuple[str, ...] = ("_thread", "threading", "time", "queue")
"""Modules whose original (unpatched) versions gRPC's Python layer must see."""

GRPC_PACKAGES: tuple[str, ...] = ("grpc", "esdbclient")
"""Packages that `native_imports()` loads by default and `rebind_to_originals()` fixes."""

_GRPC_SUBMODULES = (
    "grpc",
    "grpc._channel",
    "grpc._common",
    "grpc._utilities",
    "grpc._interceptor",
    "grpc._plugin_wrapping",
    "grpc._compression",
    "grpc._runtime_protos",
    "grpc.aio",
)
# Imported with the process's usual (green) bindings first, so that the shared stdlib
# modules they provide keep behaving as the rest of the application expects.
_SHARED_FIRST = ("concurrent.futures", "logging", "asyncio")


def is_green() -> bool:
    """True in a process whose threading has been monkey-patched by eventlet."""
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is None:
        return False
    return bool(patcher.is_monkey_patched("thread"))


def _originals() -> dict[str, ModuleType]:
    import eventlet.patcher

    return {name: eventlet.patcher.original(name) for name in NATIVE_MODULES}


@contextlib.contextmanager
def native_imports(*preload: str) -> Iterator[None]:
    """Run the imports in the `with` body (and import `preload` modules, by default
    grpc's client modules) with the original threading/time/queue modules installed in
    `sys.modules`. Outside an eventlet-patched process it does nothing."""
    if not is_green():
        yield
        return
    for name in _SHARED_FIRST:
        __import__(name)
    originals = _originals()
    saved = {name: sys.modules.get(name) for name in originals}
    try:
        sys.modules.update(originals)
        for name in preload or _GRPC_SUBMODULES:
            with contextlib.suppress(ImportError):
                __import__(name)
        yield
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module
    rebind_to_originals()


def rebind_to_originals(packages: Sequence[str] = GRPC_PACKAGES) -> int:
    """Point every loaded module of `packages` back at the original threading/time/
    queue modules and their functions and classes (`from threading import Lock` too).

    Needed when grpc was imported before `eventlet.monkey_patch()`: eventlet patches the
    `threading` module object in place, so grpc's reference to it turned green. Objects
    that grpc created while importing keep whatever primitives they were built with.
    Returns how many references were changed; a no-op outside a patched process."""
    if not is_green():
        return 0
    replacements: dict[int, tuple[object, object]] = {}
    for name, original in _originals().items():
        patched = sys.modules.get(name)
        if patched is None or patched is original:
            continue
        replacements[id(patched)] = (patched, original)
        for attribute in dir(original):
            green = getattr(patched, attribute, None)
            real = getattr(original, attribute)
            if green is real or green is None or not callable(green):
                continue
            replacements[id(green)] = (green, real)
    changed = 0
    prefixes = tuple(packages)
    for module_name, module in list(sys.modules.items()):
        if module is None or not (
            module_name in prefixes or module_name.startswith(tuple(p + "." for p in prefixes))
        ):
            continue
        namespace = getattr(module, "__dict__", None)
        if namespace is None:
            continue
        for attribute, value in list(namespace.items()):
            pair = replacements.get(id(value))
            if pair is not None and pair[0] is value:
                try:
                    setattr(module, attribute, pair[1])
                except (AttributeError, TypeError):
                    continue
                changed += 1
    return changed


_checked = False


def ensure_native_grpc() -> None:
    """Call before creating a gRPC channel: in a patched process, make sure grpc's
    modules use the original threading (repairing them if grpc was imported before
    the process was patched). Cheap after the first call."""
    global _checked  # noqa: PLW0603 - a process-wide, idempotent check
    if _checked or not is_green():
        return
    if rebind_to_originals():
        warnings.warn(
            "grpc was imported before eventlet.monkey_patch(); its modules were pointed "
            "back at the original threading, but objects it built at import time keep "
            "green locks. Import eventlog.esdb (or use greengrpc.native_imports) after "
            "patching, or before any grpc import.",
            RuntimeWarning,
            stacklevel=2,
        )
    _checked = True


def call(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` in a real OS thread when the process is eventlet-patched, so
    that the calling greenthread yields instead of freezing the hub; call it directly
    otherwise. `function` must finish all of its gRPC work before it returns."""
    if not is_green():
        return function(*args, **kwargs)
    from eventlet import tpool

    result: Any = tpool.execute(function, *args, **kwargs)
    return result  # type: ignore[no-any-return]
