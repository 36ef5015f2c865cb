"""The package version, in one place: ``pyproject.toml`` reads it (``dynamic = ["version"]``),
``hpobench.__version__``, ``hpobench --version`` and every trajectory's provenance use it."""

__version__ = "0.1.0"
