"""The container health check every Firewatch image runs (its HEALTHCHECK).

Owns one question: does this container's process answer? FIREWATCH_HEALTHCHECK (set per
image for its default process, overridden per process in compose) names the target:

    grpc://127.0.0.1:50051/firewatch.incident.v1.IncidentService   grpc.health.v1 Check
    http://127.0.0.1:8081/healthz                                  HTTP 200
    http://127.0.0.1:9100/metrics                                  a worker's metrics

Exit 0 when healthy, 1 otherwise (Docker's convention). It never changes anything.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from urllib.parse import urlparse

TIMEOUT_SECONDS = 4.0


def check(target: str) -> str | None:
    """None when the target answers healthy, else why not."""
    parsed = urlparse(target)
    if parsed.scheme == "grpc":
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        with grpc.insecure_channel(parsed.netloc) as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=parsed.path.lstrip("/")),
                    timeout=TIMEOUT_SECONDS,
                )
            except grpc.RpcError as error:
                return f"{target}: {error.code().name}"
        if answer.status != health_pb2.HealthCheckResponse.SERVING:
            return f"{target}: {health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)}"
        return None
    if parsed.scheme == "http":
        try:
            with urllib.request.urlopen(target, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
                return None if response.status == 200 else f"{target}: HTTP {response.status}"
        except OSError as error:
            return f"{target}: {error}"
    return f"FIREWATCH_HEALTHCHECK must be grpc://host:port/service or http://..., got {target!r}"


def main() -> int:
    target = os.environ.get("FIREWATCH_HEALTHCHECK", "")
    problem = check(target)
    if problem:
        print(f"unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
