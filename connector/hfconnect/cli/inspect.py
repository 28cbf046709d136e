"""`hfconnect inspect REPO`: a dataset as hfconnect sees it, and whether each Parquet file is optimized.

One API call for the commit, one per 1000 files for the listing, the card, then every Parquet footer (in
parallel, one range request each): rows, row groups and their sizes, codecs, page index, and whether the file
was written with content-defined chunking (hfconnect records it in the file's metadata; other writers do not).
An image/audio folder shows its builder, rows and labels (its metadata files read, no media) and its media files.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer

from .options import Config, Endpoint, Repo, Revision, Split, Token

if TYPE_CHECKING:
    from ..plan.model import FilePart

__all__ = ["FileReport", "inspect", "inspect_file"]


@dataclass(frozen=True)
class FileReport:
    path: str
    size: int
    rows: int
    row_groups: int
    row_group_bytes: tuple[int, ...]  # uncompressed, as the writer counted them
    codecs: tuple[str, ...]
    page_index: bool
    cdc: bool | None  # None: the writer did not say
    writer: str

    @property
    def optimized(self) -> bool:
        """What hfconnect's writer produces: content-defined chunking, a page index, compressed pages."""
        return bool(self.cdc) and self.page_index and "UNCOMPRESSED" not in self.codecs


def inspect_file(footer_metadata: object, path: str, size: int) -> FileReport:
    """The facts `inspect` prints about one Parquet file, from its footer."""
    md = footer_metadata
    groups = [md.row_group(i) for i in range(md.num_row_groups)]  # type: ignore[attr-defined]
    columns = [g.column(j) for g in groups for j in range(g.num_columns)]
    kv = md.metadata or {}  # type: ignore[attr-defined]
    described = kv.get(b"hfconnect.writer")
    cdc = None
    if described is not None:
        cdc = bool(json.loads(described).get("cdc"))
    return FileReport(
        path=path, size=size, rows=md.num_rows,  # type: ignore[attr-defined]
        row_groups=len(groups), row_group_bytes=tuple(g.total_byte_size for g in groups),
        codecs=tuple(sorted({c.compression for c in columns})),
        page_index=bool(columns) and all(c.has_offset_index and c.has_column_index for c in columns),
        cdc=cdc, writer=str(md.created_by or ""))  # type: ignore[attr-defined]


def inspect(
    repo: Repo,
    config: Config = None,
    split: Split = "all",
    revision: Revision = "main",
    endpoint: Endpoint = None,
    token: Token = None,
    limit: Annotated[int, typer.Option(help="list at most this many files per split")] = 20,
) -> None:
    """Commit, configs/splits, files, rows, row groups, schema, and whether each file is optimized."""
    from concurrent.futures import ThreadPoolExecutor

    from huggingface_hub.utils import tqdm

    from ..options import ReadOptions
    from ..plan import plan_read
    from ..plan.footers import open_fragment

    options = ReadOptions.build(repo=repo, config=config, split=split, revision=revision, endpoint=endpoint,
                                token=token)
    plan = plan_read(options, whole_files=True)
    s = plan.snapshot
    typer.echo(f"dataset {s.repo_id} at commit {s.sha} (revision {s.revision!r}) via {s.endpoint}")
    typer.echo(f"config {plan.config!r}, layout from {plan.layout_source}; {plan.total_files} file(s), "
               f"{plan.total_bytes:,} bytes")
    typer.echo("schema: " + ", ".join(f"{f.name}: {f.type}" for f in plan.file_schema))
    if plan.media_builder:  # an image/audio folder: its rows come from file names or metadata, not data files
        for note in plan.notes:
            typer.echo(note)
    parts = plan.files()
    parquet = [p for p in parts if p.format == "parquet"]

    def report(part: FilePart) -> FileReport:
        footer = open_fragment(plan.client, s, part.path, part.size)
        footer.file.close()
        return inspect_file(footer.metadata, part.path, part.size)

    with ThreadPoolExecutor(max_workers=options.max_concurrency) as pool, \
            tqdm(total=len(parquet), desc="footers", unit="file", leave=False, disable=None) as bar:
        reports: dict[str, FileReport] = {}
        for done in pool.map(report, parquet):
            reports[done.path] = done
            bar.update(1)
    for split_name in plan.splits:
        mine = [p for p in parts if p.split == split_name]
        found = [reports[p.path] for p in mine if p.path in reports]
        rows = sum(r.rows for r in found)
        optimized = sum(1 for r in found if r.optimized)
        typer.echo(f"split {split_name}: {len(mine)} file(s), {sum(p.size for p in mine):,} bytes"
                   + (f", {rows:,} rows; {optimized} of {len(found)} Parquet file(s) optimized" if found else ""))
        for part in mine[:limit]:
            r = reports.get(part.path)
            if r is None:
                typer.echo(f"  {part.path}  {part.size:,} B  ({part.format})")
                continue
            groups = r.row_group_bytes
            spread = (f"{min(groups) / 1e6:.1f}-{max(groups) / 1e6:.1f} MB, median "
                      f"{statistics.median(groups) / 1e6:.1f} MB") if groups else "-"
            cdc = {True: "yes", False: "no", None: "unknown"}[r.cdc]
            typer.echo(f"  {r.path}  {r.size:,} B  {r.rows:,} rows  {r.row_groups} row group(s) ({spread})  "
                       f"{'/'.join(r.codecs)}  page index: {'yes' if r.page_index else 'no'}  CDC: {cdc}  "
                       f"{'optimized' if r.optimized else 'not optimized'}")
        if len(mine) > limit:
            typer.echo(f"  ... and {len(mine) - limit} more (--limit)")
