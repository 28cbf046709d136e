"""`hfconnect copy SRC DST`: read a dataset and write it back as optimized Parquet, through Daft's native runner.

Each split is read with hfconnect's Daft source (pinned to SRC's commit) and written with its Daft sink: files
encoded and uploaded while later rows are still read, then ONE commit per split. A progress bar counts rows.
"""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Config, Endpoint, Revision, Token

__all__ = ["copy"]


def copy(
    src: Annotated[str, typer.Argument(help="the dataset to read, namespace/name")],
    dst: Annotated[str, typer.Argument(help="the dataset to write, namespace/name (created if missing)")],
    config: Config = None,
    split: Annotated[str, typer.Option(help="a split of SRC, or `all` for every split")] = "all",
    revision: Revision = "main",
    mode: Annotated[str, typer.Option(help="append, overwrite, error or ignore, per split")] = "error",
    endpoint: Endpoint = None,
    token: Token = None,
    dst_config: Annotated[str, typer.Option(help="the config to write")] = "default",
    private: Annotated[bool, typer.Option("--private", help="create DST private")] = False,
) -> None:
    """Copy SRC's split(s) into DST as optimized Parquet (CDC, page index), one commit per split."""
    from huggingface_hub.utils import tqdm

    from ..daft import HuggingFaceSink, read_huggingface
    from ..options import ReadOptions, WriteOptions
    from ..plan import plan_read

    probe = plan_read(ReadOptions.build(repo=src, config=config, split="all", revision=revision,
                                        endpoint=endpoint, token=token), whole_files=True)
    splits = probe.splits if split == "all" else (split,)
    typer.echo(f"copying {src}@{probe.snapshot.sha[:12]} config {probe.config!r} split(s) {', '.join(splits)} "
               f"-> {dst}")
    for name in splits:
        df = read_huggingface(src, config=probe.config, split=name, revision=probe.snapshot.sha,
                              endpoint=endpoint, token=token)
        options = WriteOptions.build(engine="daft", repo=dst, config=dst_config, split=name, mode=mode,
                                     endpoint=endpoint, token=token, private=private)
        sink = HuggingFaceSink(options, df.schema())
        with tqdm(desc=f"{name}", unit=" rows", unit_scale=True, disable=None) as bar:
            sink.on_rows = bar.update
            sink.start()
            if not sink.job.skip:
                df.write_sink(sink)
        result = sink.result
        if result is None or result.commit_sha is None:
            typer.echo(f"  {name}: nothing written (mode {mode} and the split has data)")
            continue
        typer.echo(f"  {name}: {result.rows:,} rows in {len(result.files)} file(s), commit {result.commit_sha}")
