"""hfconnect: Hugging Face Hub datasets through Spark and Daft, and an offline Hub-compatible server."""

__version__ = "0.1.0"
__all__ = ["__version__"]
