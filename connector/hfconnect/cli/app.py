"""The typer application: the commands and the options they share."""

from __future__ import annotations

from typing import Annotated

import typer

from . import copy, inspect, localhub, plan

__all__ = ["app"]

app = typer.Typer(name="hfconnect", help="Hugging Face Hub datasets for Spark and Daft.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
app.add_typer(localhub.app, name="localhub")
app.command("inspect")(inspect.inspect)
app.command("plan")(plan.plan)
app.command("copy")(copy.copy)


@app.callback()
def _root(debug: Annotated[bool, typer.Option("--debug", help="show the traceback of an error")] = False) -> None:
    """Hugging Face Hub datasets for Spark and Daft: inspect, plan and copy datasets, run the local hub."""
