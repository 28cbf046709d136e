"""What the submitted cluster jobs (`jobs/*.py`) share: arguments, progress lines, one-line errors, engines,
targets that a failed job leaves as they were.

It lives in the package, not next to the jobs, so that the wheel a cluster receives (`--py-files`, Ray's
`runtime_env`) carries it: in cluster deploy mode only the job file itself travels. Nothing here imports
pyspark, daft or ray before a job asks for that engine.
"""

from .runner import Job, JobFailed, Summary, one_line
from .target import RepoJobTarget

__all__ = ["Job", "JobFailed", "Summary", "RepoJobTarget", "one_line"]
