"""Options several commands share, declared once."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["Repo", "Config", "Endpoint", "Revision", "Split", "Token"]

Repo = Annotated[str, typer.Argument(help="the dataset, namespace/name")]
Endpoint = Annotated[str | None, typer.Option(help="the Hub's URL (default HF_ENDPOINT, else huggingface.co)")]
Token = Annotated[str | None, typer.Option(help="a Hub token (default HF_TOKEN, else the saved login)")]
Revision = Annotated[str, typer.Option(help="branch, tag, sha, refs/pr/N or refs/convert/parquet")]
Config = Annotated[str | None, typer.Option(help="the config (default: the card's default)")]
Split = Annotated[str, typer.Option(help="a split, or `all`")]
