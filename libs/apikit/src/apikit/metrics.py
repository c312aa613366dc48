"""Prometheus metrics of every gRPC API: calls answered, by method and status code,
and how long they took.

Owns only the server interceptor `start_server` installs and its two metrics, in the
default registry, which the API process serves on FIREWATCH_METRICS_PORT
(servicekit.process). Health checks and reflection are counted like any method.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
from prometheus_client import Counter, Histogram

GRPC_REQUESTS = Counter(
    "firewatch_grpc_requests_total",
    "gRPC calls a Firewatch API answered, by method and status code.",
    ["method", "code"],
)
GRPC_SECONDS = Histogram(
    "firewatch_grpc_request_seconds",
    "How long a unary gRPC call took to answer.",
    ["method"],
)


def _code(context: grpc.ServicerContext, failed: bool) -> str:
    code = context.code()
    if code is None:
        return "UNKNOWN" if failed else "OK"
    return str(code.name)


class MetricsInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Counts and times every unary call; counts server streams when they end."""

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = str(handler_call_details.method)
        if handler.unary_unary is not None:
            return handler._replace(unary_unary=_unary(method, handler.unary_unary))
        if handler.unary_stream is not None:
            return handler._replace(unary_stream=_stream(method, handler.unary_stream))
        return handler


def _unary(method: str, behaviour: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def answer(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.monotonic()
        failed = True
        try:
            result = behaviour(request, context)
            failed = False
            return result
        finally:
            GRPC_SECONDS.labels(method).observe(time.monotonic() - started)
            GRPC_REQUESTS.labels(method, _code(context, failed)).inc()

    return answer


def _stream(
    method: str, behaviour: Callable[[Any, Any], Iterator[Any]]
) -> Callable[[Any, Any], Iterator[Any]]:
    def answer(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        failed = True
        try:
            yield from behaviour(request, context)
            failed = False
        finally:
            GRPC_REQUESTS.labels(method, _code(context, failed)).inc()

    return answer
