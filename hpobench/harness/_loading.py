"""Loading an optimizer factory from a baseline name, a ``"file.py:attr"`` or a
``"package.module:attr"`` spec.

A file spec is read once by the caller and its *source text* travels with each job, so process-
pool and Ray workers (even on other machines) build the same module; the file's directory is
appended to ``sys.path`` where it exists so that sibling imports work locally (appended, so that
a file beside the optimizer never shadows an installed module).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpobench._errors import OptimizerError, did_you_mean
from hpobench.harness._contract import OptimizerFactory
from hpobench.harness._simulator import check_factory

__all__ = ["OptimizerRef", "load_optimizer"]

DEFAULT_ATTR = "make_optimizer"


@dataclass(frozen=True)
class OptimizerRef:
    """A picklable reference to a factory: a module path, or a file's path and source text."""

    spec: str
    attr: str
    module: str | None = None
    path: str | None = None
    source: str | None = None

    def load(self) -> OptimizerFactory:
        if self.module is not None:
            try:
                mod = importlib.import_module(self.module)
            except ImportError as e:
                raise OptimizerError(
                    f"--optimizer {self.spec!r}: the module {self.module!r} must be importable, but "
                    f"importing it failed: {e}. For a file, write 'path/to/file.py:{self.attr}'."
                ) from None
        else:
            assert self.path is not None and self.source is not None
            mod = _module_from_source(self.path, self.source)
        return _get_factory(mod, self.attr, self.spec)


def _module_from_source(path: str, source: str) -> types.ModuleType:
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    stem = Path(path).stem
    name = f"_hpobench_optimizer_{stem}_{digest}".replace("-", "_")
    if name in sys.modules:
        return sys.modules[name]
    parent = str(Path(path).parent)
    if Path(parent).is_dir() and parent not in sys.path:
        sys.path.append(parent)  # last: a sibling file must not shadow installed modules (tqdm.py)
    mod = types.ModuleType(name)
    mod.__file__ = path
    mod.__dict__["__hpobench_display_name__"] = stem
    mod.__dict__["__hpobench_source__"] = source
    sys.modules[name] = mod
    try:
        code = compile(source, path, "exec")
        exec(code, mod.__dict__)
    except Exception as e:
        del sys.modules[name]
        raise OptimizerError(
            f"--optimizer file {path!r} failed to load: {type(e).__name__}: {e}"
        ) from e
    return mod


def _get_factory(mod: types.ModuleType, attr: str, spec: str) -> OptimizerFactory:
    obj: Any = mod
    for part in attr.split("."):
        if not hasattr(obj, part):
            public = [n for n in vars(mod) if not n.startswith("_") and callable(getattr(mod, n))]
            raise OptimizerError(
                f"--optimizer {spec!r}: the module must define {attr!r}, but it does not."
                + did_you_mean(attr, public)
                + (f" Callables it defines: {sorted(public)}." if public else "")
            )
        obj = getattr(obj, part)
    check_factory(obj, name=f"--optimizer {spec!r}")
    factory: OptimizerFactory = obj
    return factory


def _baseline_names() -> list[str]:
    try:
        from baselines import list_baselines
    except ImportError:  # the baselines package is not installed
        return []
    return list_baselines()


def _registered_baseline(name: str) -> tuple[str, str] | None:
    """``(module, attr)`` of the baseline registered as ``name``, or ``None``."""
    if ":" in name or "/" in name or "\\" in name or name.endswith(".py"):
        return None
    try:
        from baselines import BaselineNotFoundError, get_baseline
    except ImportError:
        return None
    try:
        spec = get_baseline(name)
    except BaselineNotFoundError:
        return None
    return spec.module, spec.attr


def resolve_optimizer(spec: str) -> OptimizerRef:
    """Parse and check a spec: a registered baseline name (``"hyperband"``), a file
    ``"path/to/file.py[:attr]"`` or a module ``"package.module[:attr]"``. Files are read now
    (their text travels with the jobs)."""
    ref = parse_optimizer(spec)
    ref.load()  # fail fast: missing attribute, wrong signature
    return ref


def parse_optimizer(spec: str) -> OptimizerRef:
    """Parse a spec and read a file's text, without running any of the optimizer's code."""
    if not isinstance(spec, str) or not spec.strip():
        raise OptimizerError(
            "--optimizer must be a baseline name, 'file.py:factory' or 'package.module:factory', "
            f"but got {spec!r}."
        )
    registered = _registered_baseline(spec.strip())
    if registered is not None:
        module, attr = registered
        return OptimizerRef(spec=spec.strip(), attr=attr, module=module)
    target, _, attr = spec.strip().rpartition(":") if ":" in spec else (spec.strip(), "", "")
    attr_given = bool(attr)
    attr = attr or DEFAULT_ATTR
    if target.endswith(".py") or "/" in target or "\\" in target:
        p = Path(target).expanduser()
        if not p.is_file():
            raise OptimizerError(
                f"--optimizer {spec!r}: the file {str(p)!r} must exist, but it does not"
                f" (working directory: {Path.cwd()})."
            )
        try:
            source = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise OptimizerError(f"--optimizer {spec!r}: cannot read {str(p)!r}: {e}.") from None
        ref = OptimizerRef(spec=spec, attr=attr, path=str(p.resolve()), source=source)
    else:
        if not all(part.isidentifier() for part in target.split(".")):
            raise OptimizerError(
                f"--optimizer {spec!r}: must be 'file.py:factory' or 'package.module:factory', but "
                f"{target!r} is neither a .py file nor a dotted module name."
            )
        if "." not in target and not attr_given and importlib.util.find_spec(target) is None:
            raise OptimizerError(
                f"--optimizer {spec!r} must be a baseline name (`hpobench baselines` lists them), "
                "'path/to/file.py[:factory]' or 'package.module:factory', but it is none of these."
                + did_you_mean(target, _baseline_names())
            )
        ref = OptimizerRef(spec=spec, attr=attr, module=target)
    return ref


def load_optimizer(spec: str) -> OptimizerFactory:
    """The factory named by a baseline name (``"hyperband"``, see ``hpobench baselines``),
    ``"path/to/file.py:attr"`` or ``"package.module:attr"``.

    ``attr`` defaults to ``make_optimizer``. Raises ``OptimizerError`` saying what was expected:
    a missing file or module, a missing attribute (with suggestions), or a factory whose
    signature does not accept ``(problem, seed)``.
    """
    return resolve_optimizer(spec).load()
