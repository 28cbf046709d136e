"""register(spark) sizes reads to the cluster: the class Spark pickles to its planning processes carries
spark.sparkContext.defaultParallelism (those processes get no session conf)."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest

from hfconnect.spark import cluster_parallelism, register

pytestmark = pytest.mark.integration


class FakeSpark:
    """What register() uses of a SparkSession: its sparkContext and its dataSource registry."""

    def __init__(self, cores: int | None) -> None:
        self.registered: list[type] = []
        self.dataSource = SimpleNamespace(register=self.registered.append)
        if cores is not None:
            self.sparkContext = SimpleNamespace(defaultParallelism=cores)

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"no {name} on Spark Connect")


def test_the_registered_source_carries_the_cluster_cores_through_pickling() -> None:
    from pyspark.serializers import CloudPickleSerializer

    spark = FakeSpark(cores=48)
    register(spark)
    (source,) = spark.registered
    assert source.name() == "huggingface" and source.parallelism == 48
    pickled = CloudPickleSerializer().dumps(source)
    code = ("import sys, pickle; cls = pickle.loads(sys.stdin.buffer.read()); "
            "print(cls.parallelism, cls.name(), cls.__mro__[1].__module__)")
    out = subprocess.run([sys.executable, "-c", code], input=pickled, capture_output=True, check=True).stdout
    assert out.decode().split() == ["48", "huggingface", "hfconnect.spark.source"]


def test_without_a_spark_context_the_planning_machine_decides() -> None:
    from hfconnect.spark.source import HuggingFaceDataSource

    spark = FakeSpark(cores=None)
    assert cluster_parallelism(spark) is None
    register(spark)
    assert spark.registered == [HuggingFaceDataSource] and HuggingFaceDataSource.parallelism is None
