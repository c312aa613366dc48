"""What the deploy tests read: the image template (deploy/images/dockerfiles.py), the
processes `make run` starts (deploy/local/run.py) and each Dockerfile's parsed
instructions. deploy/ is not a package, so its modules are loaded from their files."""

from __future__ import annotations

import importlib.util
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def load(relative: str, name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / relative)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


dockerfiles = load("deploy/images/dockerfiles.py", "firewatch_deploy_dockerfiles")


def local_processes() -> dict[str, list[str]]:
    """Name -> command of every process `make run` starts, less the local stand-ins."""
    run = load("deploy/local/run.py", "firewatch_deploy_run")
    env = {"FIREWATCH_SMTP_PORT": "8025", "FIREWATCH_DEMO_AUTOMATION_PORT": "8097"}
    return {
        p.name: p.command
        for p in run.platform_processes(env, ROOT / "var" / "mail")
        if p.name not in run.LOCAL_ONLY
    }


@dataclass
class Dockerfile:
    copies: list[tuple[str, str]]  # (source, destination) of every COPY
    install: list[list[str]]  # the pip commands of the install step, in order
    instructions: list[tuple[str, str]]  # (keyword, rest) of every instruction


def parse(path: Path) -> Dockerfile:
    """The instructions of a Dockerfile, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not pending and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        logical.append(pending + raw)
        pending = ""
    instructions = [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in logical]
    copies = []
    install: list[list[str]] = []
    for keyword, rest in instructions:
        if keyword == "COPY":
            source, destination = shlex.split(rest)
            copies.append((source, destination))
        elif keyword == "RUN" and rest.lstrip().startswith("pip install"):
            assert not install, f"{path}: one install step, found a second: {rest}"
            install = [shlex.split(part) for part in rest.split("&&")]
    return Dockerfile(copies, install, instructions)


def install_paths(command: list[str]) -> set[str]:
    """The repository folders a pip command installs (extras stripped)."""
    return {
        argument.removeprefix("./").split("[", 1)[0]
        for argument in command
        if argument.startswith("./")
    }
