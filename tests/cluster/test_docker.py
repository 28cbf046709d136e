"""docker/ checked without Docker (none runs here): the compose files parse, each service runs the command the
started cluster runs (`scripts/cluster`'s state.json: same program, flags and values, container hosts, ports and
paths in place of the local ones), every port a command listens on is published or exposed, the settings match,
every file they use exists in the project or is what scripts/package builds, and the image pins the versions
the tests run."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from tests.cluster.conftest import ROOT, Cluster

pytestmark = pytest.mark.integration

DOCKER = ROOT / "docker"
TOPOLOGIES = {"compose.spark.yaml": ["hub", "spark-master", "spark-worker-1", "spark-worker-2"],
              "compose.ray.yaml": ["hub", "ray-head", "ray-worker"]}
# Environment keys scripts/cluster sets that are about this machine, not the topology: its marker, PATH (the
# venv's bin) and SPARK_LOCAL_IP (127.0.0.1: containers bind their own address).
LOCAL_ONLY = {"HFCONNECT_CLUSTER_RUN", "PATH", "SPARK_LOCAL_IP"}
COMPOSE_ONLY = {"HF_ENDPOINT"}  # for drivers started inside the containers
PROJECT_VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
WHEEL = f"dist/hfconnect-{PROJECT_VERSION}-py3-none-any.whl"


def _compose(name: str) -> dict:
    return yaml.safe_load((DOCKER / name).read_text())


def _listed_ports(service: dict) -> set[int]:
    """Container ports a service publishes (`ports`) or exposes (`expose`, ranges allowed)."""
    ports: set[int] = set()
    for item in [str(p).split(":")[-1] for p in service.get("ports", [])] + [str(p) for p in service.get("expose", [])]:
        low, _, high = item.partition("-")
        ports.update(range(int(low), int(high or low) + 1))
    return ports


def _addresses(name: str, service: dict) -> set[str]:
    networks = service.get("networks") or {}
    ips = {n.get("ipv4_address") for n in networks.values() if isinstance(n, dict)} if isinstance(networks, dict) \
        else set()
    return {name, service.get("hostname", name), "0.0.0.0"} | {ip for ip in ips if ip}


def _compare(local: list[str], docker: list[str], name: str, service: dict, local_paths: tuple[str, ...]) -> None:
    """Same length, same program and flags; values equal, or the local host/port/path in its container form."""
    assert len(local) == len(docker), f"{name}: {docker} vs scripts/cluster's {local}"
    assert Path(local[0]).name == docker[0], f"{name} runs {docker[0]}, scripts/cluster runs {local[0]}"
    listening = _listed_ports(service)
    for i, (mine, theirs) in enumerate(zip(local[1:], docker[1:], strict=True), 1):
        flag = local[i - 1]
        if mine == theirs:
            continue
        if mine == "127.0.0.1":
            assert theirs in _addresses(name, service), f"{name} {flag} {theirs}: not this service's address"
        elif flag.endswith("-port") or flag == "--port":
            assert theirs.isdigit() and int(theirs) in listening, f"{name} {flag} {theirs}: not published/exposed"
        elif flag == "--worker-port-list":
            ports = [int(p) for p in theirs.split(",")]
            assert len(ports) == len(mine.split(",")) and set(ports) <= listening, f"{name} {flag}: {theirs}"
        elif mine.startswith(local_paths):
            assert theirs.startswith("/"), f"{name} {flag}: {theirs} is not a container path"
        elif re.fullmatch(r"(spark://)?127\.0\.0\.1:\d+", mine):
            assert re.fullmatch(r"(spark://)?[\w.-]+:\d+", theirs), f"{name} {flag}: {theirs}"
        else:
            pytest.fail(f"{name}: {flag} is {theirs!r} in docker/, {mine!r} in scripts/cluster")


@pytest.mark.parametrize("compose_file", sorted(TOPOLOGIES))
def test_each_service_runs_what_scripts_cluster_runs(cluster: Cluster, compose_file: str) -> None:
    compose = _compose(compose_file)
    services = compose["services"]
    assert list(services) == TOPOLOGIES[compose_file]
    components = cluster.state["components"]
    local_paths = (str(cluster.run_dir), cluster.state["ray_tmp"], str(ROOT))
    for name, service in services.items():
        assert service["image"] == f"hfconnect:{PROJECT_VERSION}"
        _compare(components[name]["argv"], [str(a) for a in service["command"]], name, service, local_paths)
        env = {k: str(v) for k, v in service["environment"].items()}
        mine = {k: v for k, v in components[name]["env"].items() if k not in LOCAL_ONLY}
        assert set(env) - COMPOSE_ONLY == set(mine), f"{name}: environment keys differ from scripts/cluster's"
        for key, value in mine.items():
            if value.startswith(local_paths):
                assert env[key].startswith("/"), f"{name} {key}={env[key]}"
            else:
                assert env[key] == value, f"{name} {key}={env[key]}, scripts/cluster sets {value}"
        for secret_path in [a for a in service["command"] + list(env.values()) if str(a).startswith("/run/secrets/")]:
            assert Path(secret_path).name in service.get("secrets", []), f"{name} uses {secret_path} unmounted"


@pytest.mark.parametrize("compose_file", sorted(TOPOLOGIES))
def test_services_reach_each_other_where_they_listen(compose_file: str) -> None:
    services = _compose(compose_file)["services"]
    hub_port = services["hub"]["command"][services["hub"]["command"].index("--port") + 1]
    for name, service in services.items():
        command = [str(a) for a in service["command"]]
        endpoint = service["environment"].get("HF_ENDPOINT")
        if endpoint:
            host, port = re.fullmatch(r"http://([\w.-]+):(\d+)", endpoint).groups()
            assert port == hub_port and host in _addresses("hub", services["hub"]), f"{name}: {endpoint}"
        for target in [a for a in command if a.startswith("spark://")]:
            host, port = re.fullmatch(r"spark://([\w.-]+):(\d+)", target).groups()
            master = [str(a) for a in services[host]["command"]]
            assert master[master.index("--port") + 1] == port and int(port) in _listed_ports(services[host])
        if "--address" in command:
            host, port = command[command.index("--address") + 1].split(":")
            head = [str(a) for a in services["ray-head"]["command"]]
            assert host in _addresses("ray-head", services["ray-head"]) and head[head.index("--port") + 1] == port


@pytest.mark.parametrize("compose_file", sorted(TOPOLOGIES))
def test_every_file_the_compose_files_use_exists(compose_file: str) -> None:
    compose = _compose(compose_file)
    build = compose["services"]["hub"]["build"]
    context = (DOCKER / build["context"]).resolve()
    assert context == ROOT and (context / build["dockerfile"]).is_file()
    for secret in compose["secrets"].values():
        assert (DOCKER / secret["file"]).is_file(), secret
    text = (DOCKER / "hub-tokens.example").read_text()
    assert re.search(r"^hf_\w+:write", text, flags=re.MULTILINE)


def test_the_image_installs_what_the_tests_run() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text()
    python = re.search(r"^FROM python:(\d+\.\d+)", dockerfile, flags=re.MULTILINE).group(1)
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == f">={python}"
    for package in ("pyspark", "ray", "daft"):
        assert f'"{package}=={version(package)}"' in dockerfile, f"the image must pin {package}=={version(package)}"
    for source, _ in re.findall(r"^COPY (\S+) (\S+)$", dockerfile, flags=re.MULTILINE):
        assert source == WHEEL or (ROOT / source).exists(), f"COPY {source}: not in the project"
    package_script = (ROOT / "scripts" / "package").read_text()
    assert 'hfconnect-$version-py3-none-any.whl' in package_script  # what builds the wheel the image installs
    assert "openjdk-17" in dockerfile  # the Java the suite runs Spark with
