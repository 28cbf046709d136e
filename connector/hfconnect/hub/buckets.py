"""Storage Buckets for reads: the path spellings, the listing of a prefix, and the check that a file read is the
one planned.

Why a check at all: a bucket has no commits (an upload overwrites a path in place), so a read cannot be pinned
to a sha. Instead the plan records each file's Xet hash and size from the listing, and a bucket file's resolve
URL carries them in its fragment (`#xet=<hash>&size=<n>`, never sent: HTTP clients drop the fragment). Every
answer of `/buckets/<id>/resolve/<path>` names the file it serves (`X-Xet-Hash`, `X-Linked-Size`, `ETag`), so
`http` compares it with the pin before reading a byte; the signed URL it redirects to is content-addressed, so
every range read from it is the planned file. The fragment also keys the per-process signed-URL cache: a plan
never reads through a URL resolved for another version of the path.

A prefix hfconnect wrote has a manifest (`hub.bucket_manifest`): `read_manifest` reads one, pinned to the Xet hash
and size the listing gave it (one resolve request and the small read it redirects to).

Only the standard library and hfconnect.errors at import: Spark's planning processes import this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, quote, unquote, urlsplit

from ..errors import DataFileError, OptionError, RepoNotFoundError
from .bucket_manifest import Manifest, ManifestError, manifest_folder, parse_manifest

if TYPE_CHECKING:
    from collections.abc import Mapping

    from .client import HubClient
    from .snapshot import RepoFileInfo

__all__ = ["BucketPath", "bucket_path", "changed_error", "check_answer", "list_bucket_files", "pin_of",
           "pinned_url", "read_manifest", "resolve_url"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
SPELLING = "buckets/<namespace>/<name>[/<prefix>] or hf://buckets/<namespace>/<name>[/<prefix>]"


@dataclass(frozen=True)
class BucketPath:
    """A bucket and the prefix (a folder, or one file) read from it; '' is the whole bucket."""

    bucket_id: str
    prefix: str = ""

    def __str__(self) -> str:
        return f"buckets/{self.bucket_id}" + (f"/{self.prefix}" if self.prefix else "")


def bucket_path(text: str, *, write: bool = False) -> BucketPath | None:
    """`buckets/ns/name[/prefix]` or `hf://buckets/ns/name[/prefix]` -> a BucketPath; None for anything else (a
    dataset id). A near miss (`bucket/...`, `hf://` without `buckets/`, a missing name, an '@' revision) is an
    OptionError saying how to spell it, rather than a "dataset not found" later. The one parser of both sides:
    `write` adds the rules of a write target (`write.bucket_target`): its prefix is a folder hfconnect creates,
    so an empty segment or a backslash is refused rather than collapsed (a read collapses `a//b`)."""
    raw = text.strip()
    rest = raw[len("hf://"):] if raw.startswith("hf://") else None
    body = rest if rest is not None else raw
    head, _, tail = body.partition("/")
    if head != "buckets":
        if head == "bucket" and tail.count("/") >= 1:
            raise OptionError(f"{text!r}: a bucket path starts with 'buckets/' (plural): {SPELLING}")
        if rest is not None:
            if head == "datasets" and tail:
                example = f"write(df, {tail!r})" if write else f"load({tail!r})"
                raise OptionError(f"{text!r}: for a dataset repo pass its id alone, e.g. {example}; hf:// "
                                  f"paths name buckets: {SPELLING}")
            raise OptionError(f"{text!r}: hfconnect {'writes' if write else 'reads'} hf:// paths of Storage Buckets "
                              f"only: {SPELLING}; for a dataset repo pass its id, e.g. 'org/name'")
        return None
    if any("@" in part for part in tail.split("/")[:2]):
        raise OptionError(f"{text!r}: a Storage Bucket has no revisions ('@'): {SPELLING}")
    parts = tail.strip("/").split("/", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise OptionError(f"{text!r} names no bucket: name the bucket's namespace and name, {SPELLING}")
    for part, what in ((parts[0], "namespace"), (parts[1], "bucket name")):
        if not _NAME.match(part) or ".." in part:
            raise OptionError(f"{text!r}: not a bucket path: {what} {part!r} may hold only letters, digits, '-', '_' "
                              "and '.' (at most 96, not starting with '-' or '.'): name the bucket's namespace and "
                              f"name, {SPELLING}")
    segments = parts[2].split("/") if len(parts) > 2 else []
    if write:
        if any(s in ("", ".", "..") or "\\" in s for s in segments):
            raise OptionError(f"{text!r}: the prefix has an empty, '.' or '..' segment or a backslash: name a folder "
                              "inside the bucket, e.g. buckets/ns/name/data/2025")
    else:
        segments = [s for s in segments if s]
        if any(s in (".", "..") for s in segments):
            raise OptionError(f"{text!r}: the prefix may not contain '.' or '..' segments")
    return BucketPath(f"{parts[0]}/{parts[1]}", "/".join(segments))


def list_bucket_files(client: HubClient, bucket: BucketPath) -> tuple[RepoFileInfo, ...]:
    """Every file under the prefix (a folder: files below `prefix/`; or the file named `prefix`), with size and
    Xet hash (as `oid`), one API call per 1000 files. The Hub matches tree prefixes lexically (`data` also lists
    `data2/`): those are dropped here. A missing bucket, or a private one without a token, is an error that
    names the bucket and says what to check."""
    from .snapshot import RepoFileInfo

    prefix = bucket.prefix

    def listing() -> list[RepoFileInfo]:
        from huggingface_hub import BucketFile

        entries = client.api().list_bucket_tree(bucket.bucket_id, prefix=prefix or None, recursive=True)
        return [RepoFileInfo(e.path, e.size, e.xet_hash or "") for e in entries if isinstance(e, BucketFile)
                and (not prefix or e.path == prefix or e.path.startswith(prefix + "/"))]

    try:
        return tuple(client.call("bucket listing", listing, where=f"bucket {bucket.bucket_id}"))
    except RepoNotFoundError:
        hint = ("check its name and that this token can read it" if client.token else
                "check its name; a private bucket needs a token with read access (option token, HF_TOKEN or "
                "`hf auth login`)")
        raise RepoNotFoundError(f"bucket {bucket.bucket_id} not found on {client.endpoint}: {hint} "
                                f"(HfApi().list_buckets('{bucket.bucket_id.split('/')[0]}') lists the buckets this "
                                "token sees)", bucket=bucket.bucket_id) from None


def read_manifest(client: HubClient, bucket_id: str, entry: RepoFileInfo) -> Manifest:
    """The manifest at `entry` (a listing entry: path, size, Xet hash), parsed with its folder as prefix. Read
    pinned: a manifest replaced since the listing is `changed_error` (DataFileError, changed=True), for the
    caller to list again. One that does not parse is a ManifestError naming it and saying how to fix it."""
    from .snapshot import Snapshot

    pins = {entry.path: (entry.oid, entry.size)} if entry.oid else {}
    snapshot = Snapshot(bucket_id, "", manifest_folder(entry.path), client.endpoint, "bucket", pins=pins)
    data = client.read_file(snapshot, entry.path, entry.size)
    where = f"buckets/{bucket_id}/{entry.path}"
    try:
        return parse_manifest(data, prefix=manifest_folder(entry.path), where=where)
    except ManifestError as exc:
        if "newer than this hfconnect reads" in exc.message:
            raise
        raise ManifestError(f"{exc.message}. hfconnect's readers read exactly the files a prefix's manifest names, "
                            "so they cannot read this prefix: rewrite it with hfconnect (mode overwrite replaces the "
                            "manifest), or delete the manifest to read every data file under the prefix",
                            bucket=bucket_id, path=entry.path) from None


# ---- the pin: which file a planned read expects ------------------------------------------------------------
def resolve_url(endpoint: str, bucket_id: str, path: str) -> str:
    """`/buckets/<id>/resolve/<path>`: where a bucket file's bytes start (no revision: there is none)."""
    return f"{endpoint}/buckets/{bucket_id}/resolve/{quote(path)}"


def pinned_url(url: str, xet_hash: str, size: int) -> str:
    """The resolve URL with the planned file in its fragment (not sent over HTTP)."""
    return f"{url}#xet={xet_hash}&size={size}"


def pin_of(url: str) -> tuple[str, int] | None:
    """(Xet hash, size) a pinned resolve URL expects, or None for an unpinned URL."""
    fragment = urlsplit(url).fragment
    if not fragment:
        return None
    query = parse_qs(fragment)
    try:
        return query["xet"][0], int(query["size"][0])
    except (KeyError, IndexError, ValueError):
        return None


def _named(url: str) -> str:
    """A bucket file as the user spells it: buckets/<ns>/<name>/<path>."""
    return unquote(urlsplit(url).path).lstrip("/").replace("/resolve/", "/", 1)


def changed_error(url: str, now: str) -> DataFileError:
    """The file at `url` is not the one the plan read its listing of."""
    return DataFileError(f"{_named(url)}: changed since the read was planned ({now}): re-run the read (a bucket "
                         "is not versioned: a read plans against the files as they were listed)",
                         path=_named(url), changed=True)


def check_answer(url: str, headers: Mapping[str, str]) -> None:
    """Raise `changed_error` when an answer of a pinned resolve URL serves another file than planned: its
    `X-Xet-Hash` (else a 64-hex `ETag`) differs from the planned hash, or its size (`X-Linked-Size`, else the
    total of `Content-Range`) from the planned size. An unpinned URL or an answer naming nothing passes."""
    pin = pin_of(url)
    if pin is None:
        return
    planned_hash, planned_size = pin
    got = headers.get("X-Xet-Hash") or ""
    if not got:
        etag = (headers.get("ETag") or "").removeprefix("W/").strip('"')
        got = etag if _HEX64.match(etag) else ""
    if got and got != planned_hash:
        raise changed_error(url, f"Xet hash {got[:12]}..., planned {planned_hash[:12]}...")
    size = headers.get("X-Linked-Size") or ""
    if not size:
        total = (headers.get("Content-Range") or "").rpartition("/")[2]
        size = total if total.isdigit() else ""
    if size.isdigit() and int(size) != planned_size:
        raise changed_error(url, f"{int(size):,} bytes, planned {planned_size:,}")
