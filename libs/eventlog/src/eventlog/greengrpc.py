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
   every module they import binds the real ones. That only works if grpc is first
   imported after `eventlet.monkey_patch()` (which patches the threading module object
   in place, and greens locks that already exist): `ensure_native_grpc()` refuses with
   a clear error, instead of a hang, when grpc was loaded otherwise.
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
from collections.abc import Callable, Iterator, Sequence
from types import ModuleType
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

NATIVE_MODULES: tuple[str, ...] = ("_thread", "threading", "time", "queue")
"""Modules whose original (unpatched) versions gRPC's Python layer must see."""

GRPC_PACKAGES: tuple[str, ...] = ("grpc", "esdbclient")
"""Packages that must be loaded through `native_imports()` in a patched process."""

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


class GreenGrpcError(RuntimeError):
    """grpc was loaded in a way that cannot work in this eventlet-patched process."""


def green_bound_modules(packages: Sequence[str] = GRPC_PACKAGES) -> list[str]:
    """Loaded modules of `packages` that use the process's patched (green) threading,
    time or queue module: they were imported before `eventlet.monkey_patch()` (which
    patches those module objects in place) or outside `native_imports()`."""
    if not is_green():
        return []
    green = {id(sys.modules[name]) for name in NATIVE_MODULES if name in sys.modules}
    originals = {id(module) for module in _originals().values()}
    green -= originals
    prefixes = tuple(p + "." for p in packages)
    found = []
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name in packages or module_name.startswith(prefixes)):
            continue
        namespace = getattr(module, "__dict__", {})
        if any(id(value) in green for value in list(namespace.values())):
            found.append(module_name)
    return sorted(found)


def ensure_native_grpc() -> None:
    """Call before creating a gRPC channel. In an eventlet-patched process, refuse
    (with a clear message, instead of a hang later) when grpc was loaded with green
    threading. Cheap after the first successful call."""
    global _checked  # noqa: PLW0603 - a process-wide, idempotent check
    if _checked or not is_green():
        return
    bound = green_bound_modules()
    if bound:
        raise GreenGrpcError(
            f"grpc is loaded with eventlet's green threading ({', '.join(bound[:4])}...), so "
            "its calls would hang this process. It was imported before "
            "eventlet.monkey_patch(), or outside eventlog.greengrpc.native_imports(): "
            "call eventlet.monkey_patch() first (nameko run does), then import eventlog.esdb "
            "or any other grpc client inside native_imports()."
        )
    _checked = True


_checked = False


def call(function: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run `function` in a real OS thread when the process is eventlet-patched, so
    that the calling greenthread yields instead of freezing the hub; call it directly
    otherwise. `function` must finish all of its gRPC work before it returns."""
    if not is_green():
        return function(*args, **kwargs)
    from eventlet import tpool

    result: Any = tpool.execute(function, *args, **kwargs)
    return result  # type: ignore[no-any-return]
