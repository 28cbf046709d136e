"""A Spark driver running one streaming query into a Hub dataset, as its own process, so tests can kill it -9.

`python -m tests.stream.driver '<json>'` with keys:
  endpoint, token, checkpoint, sink_repo      where the query writes, and its checkpoint on local disk
  source: {"files": dir} | {"repo": id, ...}  a directory of Parquet files (read one file per trigger), or a Hub
                                              dataset followed by hfconnect's source (extra keys are its options)
  transform: bool                             select id, upper(text) as text, id * 2 as doubled
  trigger: "available_now" | seconds          Trigger.AvailableNow (runs to the end, then exits) or ProcessingTime
  run_seconds: float                          with ProcessingTime: stop gracefully after this long (else: forever)
It prints one line per finished micro-batch, `BATCH <id> <rows>`, then `DONE` when the query ended by itself.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main(config: dict) -> None:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("hfconnect-stream-driver")
             .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
             .config("spark.sql.streaming.minBatchesToRetain", "100").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    source = config["source"]
    if "files" in source:
        df = (spark.readStream.schema("id long, text string").option("maxFilesPerTrigger", 1)
              .parquet(source["files"]))
    else:
        reader = spark.readStream.format("huggingface").option("endpoint", config["endpoint"])
        reader = reader.option("token", config["token"])
        for key, value in source.items():
            if key != "repo":
                reader = reader.option(key, str(value))
        df = reader.load(source["repo"])
    if config.get("transform"):
        df = df.selectExpr("id", "upper(text) as text", "id * 2 as doubled")
    writer = (df.writeStream.format("huggingface").option("endpoint", config["endpoint"])
              .option("token", config["token"]).option("checkpointLocation", config["checkpoint"]))
    trigger = config.get("trigger", "available_now")
    writer = writer.trigger(availableNow=True) if trigger == "available_now" else \
        writer.trigger(processingTime=f"{trigger} seconds")
    query = writer.start(config["sink_repo"])
    deadline = time.monotonic() + float(config.get("run_seconds", 1e9))
    reported = -1
    while query.isActive and time.monotonic() < deadline:
        for progress in query.recentProgress:
            if progress["batchId"] > reported:
                reported = progress["batchId"]
                print(f"BATCH {reported} {progress['numInputRows']}", flush=True)
        time.sleep(0.1)
    if query.isActive:
        query.stop()
    if query.exception() is not None:
        print(f"FAILED {query.exception()}", flush=True)
        sys.exit(3)
    print("DONE", flush=True)
    spark.stop()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
