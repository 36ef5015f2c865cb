"""Table generation: real datasets, batched training runs, and the tables they produce."""

from __future__ import annotations

from hpobench.generate.datasets import DatasetSplits, list_datasets, load_dataset

__all__ = ["DatasetSplits", "list_datasets", "load_dataset"]
