"""A Spark Connect server for tests: a local[2] Spark driver with the Connect plugin listening on 127.0.0.1.

`python -m tests.stream.connect_server PORT` prints READY once clients can connect, then serves until killed.
(The pip pyspark has no sbin/start-connect-server.sh; the plugin is what that script starts.)
"""

from __future__ import annotations

import os
import sys
import time


def main(port: int) -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("hfconnect-connect-server")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.plugins", "org.apache.spark.sql.connect.SparkConnectPlugin")
             .config("spark.connect.grpc.binding.address", "127.0.0.1")
             .config("spark.connect.grpc.binding.port", str(port)).getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    print("READY", flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main(int(sys.argv[1]))
