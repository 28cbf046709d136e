"""`hfconnect plan REPO`: the shards a read would use (the same plan Spark and Daft get), and what a filter prunes."""

from __future__ import annotations

from typing import Annotated

import typer

from .options import Config, Endpoint, Repo, Revision, Split, Token

__all__ = ["plan"]


def plan(
    repo: Repo,
    config: Config = None,
    split: Split = "train",
    revision: Revision = "main",
    endpoint: Endpoint = None,
    token: Token = None,
    filter: Annotated[str | None, typer.Option(
        "--filter", help='pyarrow DNF filters, JSON or a Python literal, e.g. [["id", ">", 5]]')] = None,
    columns: Annotated[str | None, typer.Option(help="comma-separated columns to read")] = None,
    shard_size: Annotated[str | None, typer.Option(help="bytes per task, e.g. 128MB")] = None,
    min_shards: Annotated[int | None, typer.Option(help="at least this many tasks for small datasets")] = None,
    limit: Annotated[int, typer.Option(help="list at most this many shards")] = 50,
) -> None:
    """The shards a read would use: files and row groups per shard, bytes, and the row groups a filter prunes."""
    from ..options import ReadOptions
    from ..plan import plan_read

    options = ReadOptions.build(repo=repo, config=config, split=split, revision=revision, endpoint=endpoint,
                                token=token, filters=filter, columns=columns, shard_size=shard_size,
                                min_shards=min_shards)
    made = plan_read(options)
    typer.echo(made.explain())
    for shard in made.shards[:limit]:
        parts = ", ".join(p.path if p.row_groups is None else f"{p.path} [row groups {_ranges(p.row_groups)}]"
                          for p in shard.parts)
        typer.echo(f"  shard {shard.index}: ~{shard.est_bytes:,} bytes: {parts}")
    if len(made.shards) > limit:
        typer.echo(f"  ... and {len(made.shards) - limit} more shard(s) (--limit)")


def _ranges(values: tuple[int, ...]) -> str:
    """(0, 1, 2, 5) -> '0-2, 5'."""
    out: list[str] = []
    start = prev = values[0]
    for v in (*values[1:], None):
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ", ".join(out)
