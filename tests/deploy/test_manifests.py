"""The Kubernetes manifests and the compose file run every process `make run` starts,
the same way, and the manifests are valid Kubernetes objects.

Validation uses kubernetes-validate (pinned in constraints.txt): it ships the
Kubernetes JSON schemas, so it needs no network and no cluster. Strict mode rejects
unknown fields, the typo class a cluster would otherwise reject only at deploy time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from tests.deploy.catalogue import ROOT, dockerfiles, local_processes

K8S = sorted((ROOT / "deploy" / "k8s").glob("*.yaml"))
# The version the manifests are written for; kubernetes-validate ships its schema.
KUBERNETES_VERSION = "1.33.0"
WORKLOADS = ("Deployment", "StatefulSet")
CATALOGUE = {p.name: (image, p) for image in dockerfiles.IMAGES for p in image.processes}
INFRASTRUCTURE = {"rabbitmq", "postgres"}  # compose runs these; production provides them


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def all_documents() -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in K8S:
        for document in documents(path):
            yield path, document


def workloads() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path, document in all_documents():
        if document["kind"] in WORKLOADS:
            name = document["metadata"]["name"]
            assert name not in found, f"{path.name}: {name} is defined twice"
            found[name] = document
    return found


def test_there_is_a_manifest_for_every_service() -> None:
    assert sorted(p.stem for p in K8S) == sorted(image.service for image in dockerfiles.IMAGES)


@pytest.mark.parametrize("path", K8S, ids=lambda p: p.name)
def test_manifest_is_valid_against_the_kubernetes_schema(path: Path) -> None:
    for document in documents(path):
        try:
            kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            name = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
            location = "/".join(str(p) for p in error.path)
            pytest.fail(f"{path.name} {name} at {location}: {error.message}")


def test_the_validator_rejects_an_unknown_field() -> None:
    # The check above must be able to fail: a misspelt probe field is refused.
    (document,) = [d for d in documents(K8S[0]) if d["kind"] in WORKLOADS][:1]
    document["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_kubernetes_runs_every_process_make_run_starts() -> None:
    assert sorted(workloads()) == sorted(local_processes())


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_workload_runs_the_image_command_with_probes_resources_config_and_no_root(
    name: str,
) -> None:
    image, process = CATALOGUE[name]
    workload = workloads()[name]
    pod = workload["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"].startswith(f"firewatch/{image.service}:")
    assert container["command"] == list(process.command)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == dockerfiles.UID
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(container["resources"][kind]), kind
    # Plain settings from the service's ConfigMap, credentials from Secrets.
    config_maps = {
        source["configMapRef"]["name"]
        for source in container.get("envFrom", [])
        if "configMapRef" in source
    }
    assert config_maps == {f"firewatch-{image.service}"}
    env = {item["name"]: item for item in container["env"]}
    assert env["FIREWATCH_STORE_URL"]["valueFrom"]["secretKeyRef"]["name"] == "firewatch"
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    readiness, liveness = container["readinessProbe"], container["livenessProbe"]
    if process.probe.startswith("grpc:"):
        assert readiness["grpc"] == {"port": process.port, "service": process.probe[5:]}
        assert liveness["grpc"]["port"] == process.port
    elif process.probe == "http":
        assert ports["http"] == process.port
        for probe in (readiness, liveness):
            assert probe["httpGet"] == {"path": "/healthz", "port": "http"}
    else:
        assert ports["metrics"] == dockerfiles.METRICS_PORT
        for probe in (readiness, liveness):
            assert probe["httpGet"] == {"path": "/metrics", "port": "metrics"}
        if process.command[0] == "nameko":
            assert env["FIREWATCH_METRICS_PORT"]["value"] == str(dockerfiles.METRICS_PORT)


def test_every_config_map_and_volume_claim_a_workload_names_is_defined() -> None:
    defined = {(d["kind"], d["metadata"]["name"]) for _, d in all_documents()}
    for name, workload in workloads().items():
        pod = workload["spec"]["template"]["spec"]
        for source in pod["containers"][0].get("envFrom", []):
            if "configMapRef" in source:
                assert ("ConfigMap", source["configMapRef"]["name"]) in defined, name
        for volume in pod.get("volumes", []):
            if "persistentVolumeClaim" in volume:
                claim = volume["persistentVolumeClaim"]["claimName"]
                assert ("PersistentVolumeClaim", claim) in defined, name


# --- compose ---------------------------------------------------------------------------


def compose_services() -> dict[str, dict[str, Any]]:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def test_compose_runs_the_processes_make_run_starts() -> None:
    assert sorted(set(compose_services()) - INFRASTRUCTURE) == sorted(local_processes())


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_compose_service_builds_its_image_and_runs_its_command(name: str) -> None:
    image, process = CATALOGUE[name]
    service = compose_services()[name]
    assert service["build"] == {
        "context": "..",
        "dockerfile": f"services/{image.service}/Dockerfile",
    }
    assert service["command"] == list(process.command)
    environment = service["environment"]
    assert environment["FIREWATCH_HEALTHCHECK"] == process.healthcheck_target()
    if process.command[0] == "nameko":
        assert environment["FIREWATCH_METRICS_PORT"] == str(dockerfiles.METRICS_PORT)
    if process.port:
        assert any(
            str(mapping).endswith(f":{process.port}") for mapping in service.get("ports", [])
        ), f"{name} does not publish {process.port}"


def test_detection_config_map_is_a_configuration_detection_loads(tmp_path: Path) -> None:
    from detection_service.config import DetectionSettings
    from detection_service.http import build_app

    (config_map,) = [
        d
        for d in documents(ROOT / "deploy" / "k8s" / "detection.yaml")
        if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "firewatch-detection-config"
    ]
    for name, text in config_map["data"].items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    settings = DetectionSettings(
        store_url=f"sqlite:///{tmp_path / 'log.db'}", detection_config=tmp_path / "detection.yaml"
    )
    app = build_app(settings)
    try:
        assert app.config.rules_files, "the example rules file is not loaded"
    finally:
        app.store.close()


# --- sender slots and the operators' route (ADR 0011) -----------------------------------

# A worker that records delivery attempts names its sender slot; at start it fences the
# slot's earlier attempts and sends them again at once. The slot must survive a pod's
# replacement, so these run as StatefulSets with the pod name as the slot.
SENDER_SLOTS = {
    "paging-worker": ("services/paging/src/paging_service/settings.py", "PAGING_SENDER"),
    "comms-worker": ("services/comms/src/comms_service/settings.py", "COMMS_SENDER"),
    "runbooks-worker": ("services/runbooks/src/runbooks_service/settings.py", "RUNBOOKS_SENDER"),
}


@pytest.mark.parametrize("name", sorted(SENDER_SLOTS))
def test_a_sending_worker_keeps_its_slot_across_pod_replacement(name: str) -> None:
    settings, setting = SENDER_SLOTS[name]
    # The setting is the one the service reads, so a rename cannot leave this stale.
    assert setting in (ROOT / settings).read_text(encoding="utf-8")
    variable = f"FIREWATCH_{setting}"
    workload = workloads()[name]
    assert workload["kind"] == "StatefulSet"
    assert workload["spec"]["serviceName"] == name
    (container,) = workload["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item for item in container["env"]}
    assert env[variable]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    headless = [
        d for _, d in all_documents() if d["kind"] == "Service" and d["metadata"]["name"] == name
    ]
    assert [d["spec"].get("clusterIP") for d in headless] == ["None"]
    # compose runs one container per service: it names the slot outright.
    assert compose_services()[name]["environment"][variable]


def test_the_operators_fallback_route_is_set_at_install_time() -> None:
    (config,) = [
        d for path, d in all_documents() if path.stem == "paging" and d["kind"] == "ConfigMap"
    ]
    for addresses in (
        config["data"]["FIREWATCH_PAGING_FALLBACK_EMAILS"],
        compose_services()["paging-worker"]["environment"]["FIREWATCH_PAGING_FALLBACK_EMAILS"],
    ):
        assert all("@" in a for a in addresses.split(","))
