"""Which files the Hub stores through LFS (or Xet) whatever their size: the suffixes a new Hub repo's
`.gitattributes` routes there, and that `.gitattributes` itself.

The one list: the local hub writes it into the `.gitattributes` of new repos and answers preupload with it
(`localhub.api_upload`: a file no pattern covers is still LFS from 10 MiB on, or when it is binary). The writer
decides nothing by it: a repo's own `.gitattributes` may say otherwise, so `write.task` keeps a small file's bytes
in its commit operation whatever its suffix. Only the standard library: the local hub imports it.
"""

from __future__ import annotations

__all__ = ["GITATTRIBUTES", "LFS_SUFFIXES"]

# Suffixes a new Hub repo's .gitattributes sends through LFS whatever their size.
LFS_SUFFIXES = (
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gz", ".h5", ".joblib", ".lz4", ".mds", ".mlmodel",
    ".model", ".msgpack", ".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl", ".pt",
    ".pth", ".rar", ".safetensors", ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst",
    ".jpg", ".jpeg", ".png", ".webp", ".mp3", ".wav", ".flac", ".ogg", ".mp4", ".db",
)
GITATTRIBUTES = "".join(f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
                        for pattern in (*(f"*{suffix}" for suffix in LFS_SUFFIXES), "*tfevents*"))

