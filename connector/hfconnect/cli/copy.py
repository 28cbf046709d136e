"""`hfconnect copy SRC DST`: read a dataset and write it back as optimized Parquet, through Daft's native runner.

The splits are read with hfconnect's Daft source (pinned to SRC's commit; every split at once carries a `split`
column) and written with its Daft sink (option `split_column`): files encoded and uploaded while later rows are
still read, then ONE commit for every split copied, as every hfconnect write job makes. A failed copy commits
nothing. A progress bar counts rows.
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
    mode: Annotated[str, typer.Option(
        help="append, overwrite, error or ignore; with every split, error/ignore look at every split of DST's "
             "config and overwrite replaces exactly the splits copied")] = "error",
    endpoint: Endpoint = None,
    token: Token = None,
    dst_config: Annotated[str, typer.Option(help="the config to write")] = "default",
    private: Annotated[bool, typer.Option("--private", help="create DST private")] = False,
) -> None:
    """Copy SRC's split(s) into DST in ONE commit, as optimized Parquet (CDC, page index)."""
    from huggingface_hub.utils import tqdm

    from ..daft import HuggingFaceSink, HuggingFaceSource
    from ..options import ReadOptions, WriteOptions
    from ..plan.model import SPLIT_COLUMN

    # One plan: the commit, config and splits printed here are what the DataFrame reads.
    source = HuggingFaceSource(ReadOptions.build(engine="daft", repo=src, config=config, split=split,
                                                 revision=revision, endpoint=endpoint, token=token))
    plan = source.plan
    typer.echo(f"copying {src}@{plan.snapshot.sha[:12]} config {plan.config!r} split(s) "
               f"{', '.join(plan.splits)} -> {dst}")
    df = source.read()
    # Every split: the reader adds the split column and the sink routes each row by it. One commit either way.
    where = {"split_column": SPLIT_COLUMN} if split == "all" else {"split": split}
    options = WriteOptions.build(engine="daft", repo=dst, config=dst_config, mode=mode, endpoint=endpoint,
                                 token=token, private=private, **where)
    sink = HuggingFaceSink(options, df.schema())
    with tqdm(desc="rows", unit=" rows", unit_scale=True, disable=None) as bar:
        sink.on_rows = bar.update
        result = sink.run(df)  # a failed copy commits nothing, and a DST it created does not stay behind
    if sink.job.skip:
        what = f"config {dst_config!r}" if split == "all" else f"split {split!r} of config {dst_config!r}"
        typer.echo(f"nothing written: mode {mode} and {dst} {what} has data")
        return
    if result.commit_sha is None:
        typer.echo(f"nothing written: {src} has no rows")
        return
    for name, rows in result.split_rows or ((split, result.rows),):
        typer.echo(f"  {name}: {rows:,} rows")
    typer.echo(f"{result.rows:,} rows in {len(result.files)} file(s), one commit {result.commit_sha}")
