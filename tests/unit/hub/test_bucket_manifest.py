"""The bucket manifest: what it writes, what it accepts back, what a reader checks against a listing."""

from __future__ import annotations

import json

import pytest

from hfconnect.hub.bucket_manifest import (
    MANIFEST_NAME,
    Manifest,
    ManifestError,
    ManifestFile,
    fallback_paths,
    governing_folders,
    is_manifest,
    manifest_folder,
    manifest_path,
    parse_manifest,
    under_prefix,
)

H1, H2 = "a" * 64, "b" * 64


def _manifest(prefix: str = "t/e") -> Manifest:
    return Manifest("ns/b", prefix, "job1", "append", (ManifestFile("part-0.parquet", 10, H1, 5),
                                                       ManifestFile("x/part-1.parquet", 20, H2, 7)), "id:int64")


def test_round_trip_and_paths() -> None:
    m = _manifest()
    back = parse_manifest(m.to_bytes())
    assert back == m and back.rows == 12
    assert back.paths() == ["t/e/part-0.parquet", "t/e/x/part-1.parquet"]
    assert json.loads(m.to_bytes())["rows"] == 12
    moved = parse_manifest(m.to_bytes(), prefix="copy")  # a copied prefix: its files are relative to where it is
    assert moved.paths() == ["copy/part-0.parquet", "copy/x/part-1.parquet"]
    root = Manifest("ns/b", "", "j", "overwrite", (ManifestFile("p.parquet", 1, H1, None),))
    assert root.paths() == ["p.parquet"] and root.rows is None and manifest_path("") == MANIFEST_NAME
    assert manifest_path("a/b") == f"a/b/{MANIFEST_NAME}"


def test_check_names_missing_and_changed_files() -> None:
    m = _manifest()
    listing = {"t/e/part-0.parquet": (10, H1), "t/e/x/part-1.parquet": (20, H2), "t/e/orphan.parquet": (1, H1)}
    assert m.check(listing) == []  # other files under the prefix are no concern
    listing["t/e/part-0.parquet"] = (10, H2)
    del listing["t/e/x/part-1.parquet"]
    assert m.check(listing) == ["t/e/part-0.parquet changed since the manifest was written",
                                "t/e/x/part-1.parquet is missing"]


def _doc(**changes: object) -> bytes:
    doc = json.loads(_manifest().to_bytes())
    doc.update(changes)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(("data", "why"), [
    (b"{", "not JSON"),
    (b"[]", "'format' is not"),
    (_doc(format="other"), "'format' is not"),
    (_doc(version=0), "'version' is not a positive integer"),
    (_doc(version=True), "'version' is not a positive integer"),
    (_doc(files={}), "'files' is not a list"),
    (_doc(files=[{"path": "../x", "size": 1, "xet_hash": H1}]), "not a relative path"),
    (_doc(files=[{"path": "/x", "size": 1, "xet_hash": H1}]), "not a relative path"),
    (_doc(files=[{"path": MANIFEST_NAME, "size": 1, "xet_hash": H1}]), "not a relative path"),
    (_doc(files=[{"path": "a", "size": 1, "xet_hash": H1}] * 2), "listed twice"),
    (_doc(files=[{"path": "a", "size": -1, "xet_hash": H1}]), "size is not a size"),
    (_doc(files=[{"path": "a", "size": 1, "xet_hash": "AB"}]), "64 lowercase hex"),
    (_doc(files=[{"path": "a", "size": 1, "xet_hash": H1, "rows": "3"}]), "not a row count"),
    (_doc(job_id=3), "must be strings"),
])
def test_invalid_manifests_are_refused(data: bytes, why: str) -> None:
    with pytest.raises(ManifestError, match=why):
        parse_manifest(data, where="m")


def test_a_newer_version_is_refused_and_unknown_keys_ignored() -> None:
    with pytest.raises(ManifestError, match="version 2, newer than this hfconnect reads"):
        parse_manifest(_doc(version=2))
    assert parse_manifest(_doc(extra={"x": 1})) == _manifest()


def test_prefix_matching_is_by_folder() -> None:
    assert under_prefix("a/b/c", "a/b") and not under_prefix("a/bc/d", "a/b") and under_prefix("x", "")
    assert fallback_paths(["a/b/2.parquet", "a/b/1.parquet", "a/bc/3.parquet", "a/b/n.json"], "a/b") == \
        ["a/b/1.parquet", "a/b/2.parquet"]


def test_which_manifests_govern_a_read() -> None:
    """The shallowest manifest at or below the read prefix decides its folder; the manifest is never data."""
    m = MANIFEST_NAME
    assert is_manifest(m) and is_manifest(f"a/b/{m}") and not is_manifest(f"a/x{m}") and not is_manifest("a/b.json")
    assert manifest_folder(m) == "" and manifest_folder(f"a/b/{m}") == "a/b"
    listed = [f"a/{m}", f"a/b/{m}", f"ab/{m}", f"c/d/{m}", f"c/d/e/f/{m}", "a/x.parquet", f"c/{m}x"]
    assert governing_folders(listed) == ["a", "ab", "c/d"]  # `ab` is not below `a`
    assert governing_folders([*listed, m]) == [""]  # the bucket's root manifest governs everything
    assert governing_folders(["a/x.parquet"]) == []
