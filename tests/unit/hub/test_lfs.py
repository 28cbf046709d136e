"""hub.lfs: the one list of suffixes a new Hub repo sends through LFS, and the .gitattributes made of it, which
the local hub uses (re-exported from its records and storage, the same objects)."""

from __future__ import annotations

from hfconnect.hub.lfs import GITATTRIBUTES, LFS_SUFFIXES


def test_every_suffix_is_a_gitattributes_pattern() -> None:
    patterns = [line.split()[0] for line in GITATTRIBUTES.splitlines()]
    assert patterns == [f"*{s}" for s in LFS_SUFFIXES] + ["*tfevents*"]
    assert all(line.endswith(" filter=lfs diff=lfs merge=lfs -text") for line in GITATTRIBUTES.splitlines())
    assert all(s.startswith(".") and s == s.lower() for s in LFS_SUFFIXES)
    assert len(set(LFS_SUFFIXES)) == len(LFS_SUFFIXES)
    assert {".parquet", ".tar", ".png", ".wav"} <= set(LFS_SUFFIXES)  # what hfconnect writes


def test_the_local_hub_uses_the_librarys_list() -> None:
    from hfconnect.localhub import records, storage
    from hfconnect.localhub.api_upload import upload_mode

    assert records.LFS_SUFFIXES is LFS_SUFFIXES and storage.GITATTRIBUTES is GITATTRIBUTES
    assert upload_mode("data/x.PARQUET", 10, b"PAR1") == "lfs" and upload_mode("notes.txt", 10, b"hi") == "regular"
