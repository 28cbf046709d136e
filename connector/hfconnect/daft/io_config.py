"""Daft's own Hub settings (`IOConfig(hf=HuggingFaceConfig(...))`, what `daft.read_huggingface` and
`DataFrame.write_huggingface` take) as hfconnect options, so Daft users keep the config they have."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from daft.io import IOConfig

__all__ = ["io_config_values"]

DAFT_DEFAULT_FILE_SIZE = 512 * 1024 * 1024  # HuggingFaceConfig's target_filesize default


def io_config_values(io_config: IOConfig | None, *, write: bool) -> dict[str, Any]:
    """The token (anonymous: the empty token, which never falls back to HF_TOKEN or a saved login) and, for a
    write, the writer settings the config changes from Daft's defaults."""
    if io_config is None or io_config.hf is None:
        return {}
    hf = io_config.hf
    out: dict[str, Any] = {}
    if hf.anonymous:
        out["token"] = ""
    elif hf.token:
        out["token"] = hf.token
    if write:
        if hf.row_group_size:
            out["row_group_size"] = hf.row_group_size
        if hf.target_filesize and hf.target_filesize != DAFT_DEFAULT_FILE_SIZE:
            out["max_file_size"] = hf.target_filesize
        if hf.use_content_defined_chunking is False:
            out["cdc"] = False
    return out
