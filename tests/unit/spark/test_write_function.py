"""hfconnect.spark.write's driver side without Spark: the tasks' rows (one per uploaded file) back into one
TaskMessage per task, as WriteJob.commit takes them."""

from __future__ import annotations

import pickle
from collections import namedtuple

from hfconnect.spark.write_function import _task_messages
from hfconnect.write.task import UploadedFile

Row = namedtuple("Row", "partition attempt fingerprint file")


def _file(index: int) -> UploadedFile:
    return UploadedFile(None, f"{index:064x}", 100 + index, 10, 1, index)


def test_rows_become_one_message_per_task_with_its_files_in_order() -> None:
    rows = [Row(1, 0, "id:int64", pickle.dumps(_file(0))), Row(0, 2, "id:int64", None),
            Row(1, 0, "id:int64", pickle.dumps(_file(1))), Row(3, 1, "id:int64", pickle.dumps(_file(0)))]
    messages = _task_messages("job", rows)
    assert [(m.partition_id, m.attempt_id) for m in messages] == [(0, 2), (1, 0), (3, 1)]
    assert [len(m.files) for m in messages] == [0, 2, 1]
    assert [f.index for f in messages[1].files] == [0, 1] and messages[1].rows == 20
    assert {m.job_id for m in messages} == {"job"} and {m.schema_fingerprint for m in messages} == {"id:int64"}
    assert _task_messages("job", []) == []
