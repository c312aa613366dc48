"""Every service image is built one way and installs exactly its dependency closure.

The fast tests read the Dockerfiles; the slow ones do what `docker build` would do
without a Docker engine: copy exactly what a Dockerfile copies into an empty folder, run
its install step there into a fresh virtualenv, and import the service's entry points
from that virtualenv alone (ADR 0019)."""

from __future__ import annotations

import http.server
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from tests.deploy.catalogue import ROOT, dockerfiles, install_paths, load, parse

IMAGES = dockerfiles.IMAGES
SERVICES = sorted(p.parent.name for p in ROOT.glob("services/*/pyproject.toml"))


def _ids(image: Any) -> str:
    return str(getattr(image, "service", image))


def _project(folder: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / folder / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_every_service_has_an_image_in_the_one_template() -> None:
    assert sorted(image.service for image in IMAGES) == SERVICES


@pytest.mark.parametrize("image", IMAGES, ids=_ids)
def test_dockerfile_is_rendered_from_the_one_template(image: Any) -> None:
    path = dockerfiles.dockerfile_path(image)
    assert path.read_text(encoding="utf-8") == dockerfiles.render(image), (
        f"{path.relative_to(ROOT)} is stale: run .venv/bin/python deploy/images/dockerfiles.py"
    )


@pytest.mark.parametrize("image", IMAGES, ids=_ids)
def test_image_copies_and_installs_exactly_the_services_dependency_closure(
    image: Any,
) -> None:
    service: str = image.service
    parsed = parse(dockerfiles.dockerfile_path(image))
    copied = {source for source, _ in parsed.copies} - {
        "constraints.txt",
        dockerfiles.HEALTHCHECK_SOURCE,
    }
    expected = set(dockerfiles.closure(service, image.extras))
    assert copied == expected
    assert install_paths(parsed.install[-1]) == expected
    assert all(source == destination for source, destination in parsed.copies[2:])
    # Closed under the pyproject files, read here independently of the template: every
    # firewatch-* requirement of a copied package is copied too.
    by_name = {
        _project(f"{kind}/{p.parent.name}")["name"]: f"{kind}/{p.parent.name}"
        for kind in ("libs", "services")
        for p in ROOT.glob(f"{kind}/*/pyproject.toml")
    }
    for folder in copied:
        project = _project(folder)
        requirements = list(project.get("dependencies", []))
        if folder == f"services/{service}" and image.extras:
            requirements += project["optional-dependencies"][image.extras]
        for requirement in requirements:
            name = requirement.split("[")[0].split(">")[0].split("<")[0].split("=")[0].strip()
            if name in by_name:
                assert by_name[name] in copied, f"{service}: {folder} needs {name}, not copied"


def test_paging_image_carries_the_libraries_its_pyproject_names() -> None:
    # The regression in issue 18: the paging image copied neither apikit nor protos.
    assert {"libs/apikit", "libs/protos", "libs/notify", "libs/servicekit"} <= set(
        dockerfiles.closure("paging")
    )


def test_closure_follows_dependencies_and_extras_transitively(tmp_path: Path) -> None:
    def package(folder: str, name: str, deps: list[str], extras: str = "") -> None:
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\ndependencies = {json.dumps(deps)}\n' + extras,
            encoding="utf-8",
        )

    package("services/s", "firewatch-s", ["firewatch-a>=1", "requests"])
    package("libs/a", "firewatch-a", ["firewatch-b"])
    package("libs/b", "firewatch-b", ["firewatch-c[x]"])
    package("libs/c", "firewatch-c", [], '[project.optional-dependencies]\nx = ["firewatch-d"]\n')
    package("libs/d", "firewatch-d", [])
    package("libs/unused", "firewatch-unused", [])
    # Dependencies before their dependents: pip needs the extras' package listed first.
    assert dockerfiles.closure("s", root=tmp_path) == [
        "libs/d",
        "libs/c",
        "libs/b",
        "libs/a",
        "services/s",
    ]


@pytest.mark.parametrize("image", IMAGES, ids=_ids)
def test_image_runs_as_non_root_with_a_health_check_and_documents_its_processes(
    image: Any,
) -> None:
    path = dockerfiles.dockerfile_path(image)
    text = path.read_text(encoding="utf-8")
    instructions = parse(path).instructions
    users = [rest.strip() for keyword, rest in instructions if keyword == "USER"]
    assert users, f"{path}: no USER"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any(keyword == "HEALTHCHECK" for keyword, _ in instructions)
    for process in image.processes:
        assert " ".join(process.command) in text, f"{path} does not document {process.name}"
        if process.port:
            assert str(process.port) in next(r for k, r in instructions if k == "EXPOSE").split()


@pytest.mark.parametrize("image", IMAGES, ids=_ids)
def test_an_image_with_a_nameko_worker_drops_eventlets_start_up_warning(image: Any) -> None:
    """`nameko run` prints eventlet's plain-text warning before logging is configured;
    the filter keeps a worker's log JSON lines from the first one (servicekit.logs)."""
    from servicekit.logs import WORKER_WARNINGS

    assert dockerfiles.WORKER_WARNINGS == WORKER_WARNINGS
    runs_nameko = any(p.command[0] == "nameko" for p in image.processes)
    env = " ".join(
        rest
        for keyword, rest in parse(dockerfiles.dockerfile_path(image)).instructions
        if keyword == "ENV"
    )
    assert (f"PYTHONWARNINGS={WORKER_WARNINGS}" in env) == runs_nameko


@pytest.mark.parametrize("image", IMAGES, ids=_ids)
def test_every_process_command_is_an_entry_point_the_image_installs(image: Any) -> None:
    service: str = image.service
    folders = dockerfiles.closure(service, image.extras)
    scripts = {
        script: target
        for folder in folders
        for script, target in _project(folder).get("scripts", {}).items()
    }
    for process in image.processes:
        program = process.command[0]
        if program == "nameko":
            config, module = process.command[3], process.command[4]
            assert config == f"/app/services/{service}/config.yaml"
            assert (ROOT / "services" / service / "config.yaml").is_file()
            assert (
                (ROOT / "services" / service / "src" / Path(*module.split(".")))
                .with_suffix(".py")
                .is_file()
            ), module
        else:
            assert program in scripts, f"{service}: {program} is no console script it installs"


def test_make_run_starts_the_same_modules_as_the_image_catalogue() -> None:
    catalogue = {p.name: p for image in IMAGES for p in image.processes}
    local = load_local()
    assert set(local) == set(catalogue)
    for name, command in local.items():
        assert _module(command) == _module(list(catalogue[name].command)), name


def load_local() -> dict[str, list[str]]:
    from tests.deploy.catalogue import local_processes

    return local_processes()


def _module(command: list[str]) -> str:
    """The Python module a command runs: `python -m X`, `nameko run ... X` or a console
    script's target in the development environment."""
    if "nameko" in command:
        return command[-1]
    if "-m" in command:
        return command[command.index("-m") + 1]
    (entry,) = [
        ep
        for ep in importlib.metadata.entry_points(group="console_scripts")
        if ep.name == command[0]
    ]
    return entry.module


# --- the health check every image runs ------------------------------------------------


@pytest.fixture
def grpc_health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield port, servicer
    server.stop(None)


@pytest.fixture
def http_server() -> Iterator[int]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 503)
            self.end_headers()

        def log_message(self, *_: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_healthcheck_asks_grpc_health_for_the_named_service(
    grpc_health_server: tuple[int, health.HealthServicer],
) -> None:
    check = load("deploy/images/healthcheck.py", "firewatch_deploy_healthcheck").check
    port, servicer = grpc_health_server
    target = f"grpc://127.0.0.1:{port}/firewatch.x.v1.X"
    servicer.set("firewatch.x.v1.X", health_pb2.HealthCheckResponse.SERVING)
    assert check(target) is None
    servicer.set("firewatch.x.v1.X", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert "NOT_SERVING" in check(target)
    assert "NOT_FOUND" in check(f"grpc://127.0.0.1:{port}/firewatch.other.v1.Y")


def test_healthcheck_wants_http_200(http_server: int) -> None:
    check = load("deploy/images/healthcheck.py", "firewatch_deploy_healthcheck").check
    assert check(f"http://127.0.0.1:{http_server}/healthz") is None
    assert check(f"http://127.0.0.1:{http_server}/other") is not None
    assert "must be" in check("")


# --- the install closure, for real ----------------------------------------------------

IMPORT_ENTRY_POINTS = """
import importlib, importlib.metadata as md, json, sys
loaded, modules = [], sys.argv[2:]
for dist in md.distributions():
    if not dist.metadata["Name"].startswith("firewatch-"):
        continue
    for ep in dist.entry_points:
        if ep.group == "console_scripts" or ep.group.startswith("firewatch."):
            ep.load()
            loaded.append(ep.name)
for module in modules:
    importlib.import_module(module)
outside = sorted(
    name for name, module in sys.modules.items()
    if name.split(".")[0] in json.loads(sys.argv[1])
    and getattr(module, "__file__", None) and not module.__file__.startswith(sys.prefix)
)
print(json.dumps({"loaded": loaded, "outside": outside}))
"""


def _copy_build_context(dockerfile: Path, into: Path) -> Path:
    """Copy exactly what the Dockerfile copies; returns the image's WORKDIR (/app)."""
    app = into / "app"
    app.mkdir(parents=True)
    for source, destination in parse(dockerfile).copies:
        target = (
            into / destination.lstrip("/") if destination.startswith("/") else app / destination
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        if (ROOT / source).is_dir():
            shutil.copytree(
                ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
            )
        else:
            shutil.copy2(
                ROOT / source, target if not destination.endswith("/") else target / source
            )
    return app


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return env


@pytest.mark.slow
@pytest.mark.timeout(600)
@pytest.mark.parametrize("image", IMAGES, ids=_ids)
def test_image_installs_what_it_copies_and_its_entry_points_import(
    image: Any, tmp_path: Path
) -> None:
    service: str = image.service
    dockerfile = dockerfiles.dockerfile_path(image)
    app = _copy_build_context(dockerfile, tmp_path / "context")
    venv = tmp_path / "venv"
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    env = _clean_env()
    for command in parse(dockerfile).install:
        assert command[:2] == ["pip", "install"], command
        result = subprocess.run(
            [python, "-m", *command], cwd=app, env=env, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{service}: {' '.join(command)}\n{result.stderr[-4000:]}"
    consistent = subprocess.run(
        [python, "-m", "pip", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert consistent.returncode == 0, consistent.stdout + consistent.stderr

    packages = {"eventlog", "contracts", "appkit", "servicekit", "apikit", "notify", "firewatch"}
    packages |= {f"{s}_service" for s in SERVICES}
    workers = [p.command[-1] for p in image.processes if p.command[0] == "nameko"]
    result = subprocess.run(
        [python, "-c", IMPORT_ENTRY_POINTS, json.dumps(sorted(packages)), *workers],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        check=False,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["outside"] == [], "imported from outside the virtualenv"
    project = _project(f"services/{service}")
    assert set(project.get("scripts", {})) <= set(report["loaded"])
    for process in image.processes:
        if process.command[0] != "nameko":
            assert (venv / "bin" / process.command[0]).exists(), process.command[0]
        config = process.command[3] if process.command[0] == "nameko" else None
        if config:
            assert (app / Path(config).relative_to("/app")).is_file()
    # The image's health check runs with the image's own packages: asked about a port
    # nothing listens on, it says unhealthy rather than failing to import.
    probe = subprocess.run(
        [python, str(tmp_path / "context" / dockerfiles.HEALTHCHECK_TARGET.lstrip("/"))],
        env={**env, "FIREWATCH_HEALTHCHECK": "grpc://127.0.0.1:1/firewatch.x.v1.X"},
        capture_output=True,
        check=False,
        text=True,
    )
    assert probe.returncode == 1
    assert "unhealthy" in probe.stderr
