"""The v1 table format: ``table.parquet`` + ``meta.json`` per task (see DESIGN.md)."""

from hpobench.table._io import (
    META_FILE,
    TABLE_FILE,
    read_table,
    reference_runtime,
    sha256_file,
    write_table,
)
from hpobench.table._meta import FORMAT_VERSION, MetricSpec, TableMeta, id_path, parse_id
from hpobench.table._table import Table

__all__ = [
    "FORMAT_VERSION",
    "META_FILE",
    "TABLE_FILE",
    "MetricSpec",
    "Table",
    "TableMeta",
    "id_path",
    "parse_id",
    "read_table",
    "reference_runtime",
    "sha256_file",
    "write_table",
]
