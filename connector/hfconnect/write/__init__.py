"""The write path: optimized Parquet per task, uploads from the tasks, one atomic commit on the driver."""

from .commit import CommitResult, WriteJob
from .parquet_writer import FinishedFile, RollingParquetWriter, WriterSettings
from .task import TaskMessage, UploadedFile, write_task

__all__ = ["CommitResult", "FinishedFile", "RollingParquetWriter", "TaskMessage", "UploadedFile", "WriteJob",
           "WriterSettings", "write_task"]
