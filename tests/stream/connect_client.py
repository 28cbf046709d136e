"""A Spark Connect client (`sc://`) that runs hfconnect's streaming source and sink on a Connect server.

`python -m tests.stream.connect_client '<json>'`: keys url, endpoint, token, source, sink, checkpoint, and
`mode` (output mode, default append). Runs A -> select id, upper(text) -> B once with Trigger.AvailableNow and
prints `ROWS <n>` (B's rows read back over Connect), or `FAILED <message>`.
"""

from __future__ import annotations

import json
import sys


def main(config: dict) -> None:
    from pyspark.errors import StreamingQueryException
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.remote(config["url"]).getOrCreate()
    assert type(spark).__module__.startswith("pyspark.sql.connect"), type(spark)
    source = (spark.readStream.format("huggingface").option("endpoint", config["endpoint"])
              .option("token", config["token"]).load(config["source"]))
    frame = source.selectExpr("id", "upper(text) as text")
    if config.get("mode", "append") != "append":
        frame = frame.groupBy("text").count()
    query = (frame.writeStream.format("huggingface").outputMode(config.get("mode", "append"))
             .option("endpoint", config["endpoint"]).option("token", config["token"])
             .option("checkpointLocation", config["checkpoint"]).trigger(availableNow=True).start(config["sink"]))
    try:
        query.awaitTermination()
    except StreamingQueryException as exc:
        print(f"FAILED {exc}", flush=True)
        return
    rows = spark.read.format("huggingface").option("endpoint", config["endpoint"]).option(
        "token", config["token"]).load(config["sink"]).count()
    print(f"ROWS {rows}", flush=True)
    spark.stop()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
