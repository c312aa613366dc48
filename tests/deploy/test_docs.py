"""The README's deployment section names, per service, its image and every process of
it with its command and port, as the image catalogue has them."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.catalogue import ROOT, dockerfiles, load


def deployment_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Deploying a service on its own\n(.*?)^## ", readme, re.S | re.M)
    assert match, "README lost its deployment section"
    return match.group(1)


@pytest.mark.parametrize("image", dockerfiles.IMAGES, ids=lambda image: image.service)
def test_readme_lists_the_image_its_processes_ports_and_metrics(image: Any) -> None:
    rows = [line for line in deployment_section().splitlines() if line.startswith("| ")]
    service: str = image.service
    start = next(i for i, row in enumerate(rows) if row.startswith(f"| {service} ("))
    assert f"`firewatch/{service}`" in rows[start]
    block = [rows[start]]
    for row in rows[start + 1 :]:
        if not row.startswith("| |"):
            break
        block.append(row)
    for process in image.processes:
        (row,) = [r for r in block if f"`{process.name}`: `{' '.join(process.command)}`" in r]
        cells = [cell.strip() for cell in row.split("|")]
        port, metrics = cells[3], cells[5]
        if process.port:
            assert str(process.port) in port, process.name
        if process.probe == "metrics":
            assert str(dockerfiles.METRICS_PORT) in metrics, process.name


RUN_TABLE_NAMES = {
    "paging-api": "on-call api",
    "mailbox": "local mailbox",
    "statuspage": "status page",
}
"""Processes the `make run` table names as a reader knows them, not by their name."""


def test_readme_make_run_table_has_a_row_for_every_process_it_starts() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^## Two commands\n(.*?)^## ", readme, re.S | re.M)
    assert match, "README lost its 'Two commands' section"
    listed = {
        row.split("|")[1].strip() for row in match.group(1).splitlines() if row.startswith("| ")
    }
    run = load("deploy/local/run.py", "firewatch_deploy_run")
    env = {"FIREWATCH_SMTP_PORT": "8025", "FIREWATCH_DEMO_AUTOMATION_PORT": "8097"}
    started = [p.name for p in run.platform_processes(env, ROOT / "var" / "mail")]
    missing = [
        name for name in started if RUN_TABLE_NAMES.get(name, name.replace("-", " ")) not in listed
    ]
    assert not missing, f"README's `make run` table has no row for {missing}"
