"""Loading optimizer factories from specs: clear errors for every way a spec can be wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from hpobench import OptimizerError
from hpobench.harness import load_optimizer

GOOD = """
from hpobench.harness import Suggestion

def make_optimizer(problem, seed):
    return None

def make_other(problem, seed, extra=1):
    return None

def wrong(problem):
    return None

NOT_CALLABLE = 3
"""


@pytest.fixture
def opt_file(tmp_path: Path) -> Path:
    p = tmp_path / "my_opt.py"
    p.write_text(GOOD)
    return p


def test_file_and_module_specs(opt_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = load_optimizer(f"{opt_file}:make_optimizer")
    assert f.__name__ == "make_optimizer"
    assert load_optimizer(str(opt_file)).__name__ == "make_optimizer"  # default attribute
    assert load_optimizer(f"{opt_file}:make_other").__name__ == "make_other"
    monkeypatch.syspath_prepend(str(opt_file.parent))
    assert load_optimizer("my_opt:make_other").__name__ == "make_other"


@pytest.mark.parametrize(
    ("attr", "match"),
    [
        ("make_optimiser", "must define 'make_optimiser'.*Did you mean .*'make_optimizer'"),
        ("wrong", r"must accept two positional arguments \(problem, seed\).*wrong\(problem\)"),
        ("NOT_CALLABLE", "must be a callable factory"),
    ],
)
def test_bad_attributes(opt_file: Path, attr: str, match: str) -> None:
    with pytest.raises(OptimizerError, match=match):
        load_optimizer(f"{opt_file}:{attr}")


def test_bad_specs(tmp_path: Path) -> None:
    with pytest.raises(OptimizerError, match="must exist"):
        load_optimizer(f"{tmp_path / 'missing.py'}:make_optimizer")
    with pytest.raises(OptimizerError, match="must be importable"):
        load_optimizer("no_such_package.opt:make_optimizer")
    with pytest.raises(OptimizerError, match=r"neither a \.py file nor a dotted module"):
        load_optimizer("not a module:f")
    with pytest.raises(OptimizerError, match=r"must be a baseline name, 'file\.py:factory'"):
        load_optimizer("")
    with pytest.raises(OptimizerError, match=r"must be a baseline name.*Did you mean 'asha'"):
        load_optimizer("ashaa")
    broken = tmp_path / "broken.py"
    broken.write_text("def make_optimizer(problem, seed)\n    pass\n")
    with pytest.raises(OptimizerError, match="failed to load: SyntaxError"):
        load_optimizer(str(broken))
