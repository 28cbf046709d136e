"""The "Run on a cluster" commands of docs/cluster.md that cannot run here (YARN, Kubernetes), checked for what can be
checked: spark-submit knows every flag, every file they name exists or is built by scripts/package or the
Dockerfile, and each job's own arguments parse with that job's parser (so do those of the commands the
cluster tests run)."""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
import tomllib

import pytest

from tests.cluster.conftest import ROOT, job_argv, readme_commands

pytestmark = pytest.mark.integration

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
SECTIONS = ("A cluster here", "Spark standalone", "Ray", "YARN", "Kubernetes")


def _job_parser(name: str):  # noqa: ANN202 - argparse.ArgumentParser
    spec = importlib.util.spec_from_file_location(f"hfconnect_job_{name}", ROOT / "jobs" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.build().parser


def _spark_submit_flags() -> set[str]:
    out = subprocess.run(["spark-submit", "--help"], capture_output=True, text=True, timeout=120)
    return set(re.findall(r"^\s+(--[a-z-]+)", out.stdout + out.stderr, flags=re.MULTILINE))


def test_every_section_has_its_commands() -> None:
    for section in SECTIONS:
        assert readme_commands(section), f"docs/cluster.md section {section!r} has no command"


@pytest.mark.parametrize("section", ["Spark standalone", "Ray", "YARN", "Kubernetes"])
def test_each_job_command_parses_with_the_jobs_own_parser(section: str) -> None:
    jobs = [c for c in readme_commands(section) if re.search(r"jobs/\w+\.py", c)]
    assert jobs
    for command in jobs:
        name, args = job_argv(command)
        _job_parser(name).parse_args([a.replace("$RAY_ADDRESS", "127.0.0.1:6379") for a in args])


def test_yarn_and_kubernetes_use_only_flags_spark_submit_knows_and_files_that_exist() -> None:
    known = _spark_submit_flags()
    assert {"--master", "--py-files", "--archives", "--conf", "--deploy-mode"} <= known
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    for section in ("YARN", "Kubernetes"):
        submits = [c for c in readme_commands(section) if "spark-submit " in c]
        assert submits
        for command in submits:
            words = shlex.split(command[command.index("spark-submit "):])
            job_at = next(i for i, w in enumerate(words) if re.search(r"jobs/\w+\.py$", w))
            flags = {w for w in words[:job_at] if w.startswith("--")}
            assert flags <= known, flags - known
            for i, word in enumerate(words[:job_at]):
                if word == "--conf":
                    assert re.fullmatch(r"spark\.[\w.]+=\S+", words[i + 1]), words[i + 1]
            job = words[job_at]
            if job.startswith("local:///"):  # inside the image: the Dockerfile copies jobs/ there
                assert "COPY jobs/ /opt/hfconnect/jobs/" in dockerfile and job.startswith("local:///opt/hfconnect/jobs/")
                assert (ROOT / "jobs" / job.rsplit("/", 1)[1]).is_file()
            else:
                assert (ROOT / job).is_file(), job


def test_yarn_ships_a_packed_venv_and_kubernetes_the_image_the_dockerfile_builds() -> None:
    yarn = " ".join(readme_commands("YARN"))
    assert f"dist/hfconnect-{VERSION}-py3-none-any.whl" in yarn and "venv-pack -o pyspark_venv.tar.gz" in yarn
    assert "--archives pyspark_venv.tar.gz#environment" in yarn
    assert "spark.executorEnv.PYSPARK_PYTHON=./environment/bin/python" in yarn
    k8s = " ".join(readme_commands("Kubernetes"))
    image = re.search(r"docker build -f docker/Dockerfile -t (\S+) \.", k8s).group(1)
    assert f"spark.kubernetes.container.image={image}" in k8s and image.endswith(f":{VERSION}")
    assert "spark.kubernetes.driver.secretKeyRef.HF_TOKEN=" in k8s


def test_the_cluster_section_uses_the_scripts_that_exist() -> None:
    for command in readme_commands("A cluster here"):
        script = re.search(r"scripts/(\w+)", command)
        assert script and (ROOT / "scripts" / script.group(1)).is_file(), command
    assert readme_commands("A cluster here")[:3] == ["scripts/cluster up", 'eval "$(scripts/cluster env)"',
                                                     "scripts/package"]
