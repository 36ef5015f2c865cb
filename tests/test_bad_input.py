"""The bad-input campaign of issue 8 as a table: entry point, input, expected error, message words.

Each row is one finding (or its neighbour) that once gave a raw traceback, a silent coercion or a
wrong answer. The next campaign starts from here: add a row, never delete one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import hpobench
from hpobench import (
    BenchmarkNotFoundError,
    Categorical,
    ConfigError,
    Fidelity,
    FidelityError,
    Float,
    HPOBenchError,
    Int,
    Ordinal,
    ProtocolError,
    SearchSpace,
    SeedError,
    TableError,
)
from hpobench.cli import main
from hpobench.importers import import_long_format
from hpobench.importers._spec import LongSpec, read_spec
from hpobench.table import MetricSpec

BIG = 10**400  # beyond the float range
BENCH = "fcnet/protein-v1"


def _bench() -> Any:
    return hpobench.make(BENCH)


def _config(**change: Any) -> dict[str, Any]:
    return {**_bench().table.config(0), **change}


@dataclass(frozen=True)
class Case:
    entry: str
    call: Callable[[Path], Any]
    error: type[BaseException]
    words: tuple[str, ...]


# -- long-format inputs --------------------------------------------------------------------------
SPACE = SearchSpace([Float("lr", 1e-3, 1.0, log=True), Ordinal("depth", (2, 3))])
METRICS = {
    "valid_loss": MetricSpec("valid_loss", "minimize", "valid"),
    "test_loss": MetricSpec("test_loss", "minimize", "test"),
    "runtime": MetricSpec("runtime", "minimize", "none"),
}


def _frame(**change: Any) -> pd.DataFrame:
    rows = []
    for lr, depth in ((0.1, 2), (0.01, 3)):
        for seed in (0, 1):
            for epoch in (1, 2):
                rows.append({"lr": lr, "depth": depth, "seed": seed, "epoch": epoch,
                             "valid_loss": 0.5, "test_loss": 0.6, "runtime": float(epoch)})  # fmt: skip
    df = pd.DataFrame(rows)
    for col, values in change.items():
        df[col] = values
    return df


def _long(tmp: Path, data: Any, **kw: Any) -> Any:
    args: dict[str, Any] = {
        "benchmark_id": "mine/toy-v1", "space": SPACE, "fidelity_column": "epoch",
        "seed_column": "seed", "metrics": METRICS, "objective": "valid_loss",
        "reported_metric": "test_loss", "tuning_seeds": [0], "test_seeds": [1],
    }  # fmt: skip
    args.update(kw)
    return import_long_format(data, tmp / "t", **args)


def _file(tmp: Path, name: str, content: bytes) -> Path:
    p = tmp / name
    p.write_bytes(content)
    return p


GOOD_SPEC: dict[str, Any] = {
    "id": "mine/toy-v1",
    "space": SPACE.to_dict(),
    "fidelity_column": "epoch",
    "seed_column": "seed",
    "metrics": {k: {"direction": m.direction, "split": m.split} for k, m in METRICS.items()},
    "objective": "valid_loss",
    "tuning_seeds": [0],
    "test_seeds": [1],
}


def _spec(**change: Any) -> Callable[[Path], Any]:
    def call(tmp: Path) -> Any:
        d = json.loads(json.dumps(GOOD_SPEC))
        for k, v in change.items():
            if v is _DROP:
                d.pop(k)
            else:
                d[k] = v
        return LongSpec.from_dict(d)

    return call


_DROP = object()


def _space_with(**hp: Any) -> dict[str, Any]:
    return {"hyperparameters": [{"type": "float", "name": "lr", "low": 0.001, "high": 1.0, **hp}]}


CASES = [
    # bounded numbers: integers beyond the float range, bools, numpy 0-d arrays
    Case(
        "Benchmark.query fidelity",
        lambda t: _bench().query(_config(), fidelity=BIG, seed=0),
        FidelityError,
        ("epoch must be one of",),
    ),
    Case(
        "Benchmark.query config",
        lambda t: _bench().query(_config(batch_size=BIG), fidelity=100, seed=0),
        ConfigError,
        ("batch_size must be one of",),
    ),
    Case(
        "Benchmark.query seed",
        lambda t: _bench().query(_config(), fidelity=100, seed=True),
        SeedError,
        ("seed must be",),
    ),
    Case(
        "Benchmark.query_batch config",
        lambda t: _bench().query_batch([_config(batch_size=BIG)], fidelity=100, seed=0),
        ConfigError,
        ("batch_size",),
    ),
    Case(
        "Benchmark.query_batch fidelity",
        lambda t: _bench().query_batch([_config()], fidelity=BIG, seed=0),
        FidelityError,
        ("epoch must be one of",),
    ),
    Case(
        "SearchSpace.validate",
        lambda t: _bench().space.validate(_config(init_lr=BIG)),
        ConfigError,
        ("init_lr must be one of",),
    ),
    Case(
        "Fidelity()",
        lambda t: Fidelity("epoch", (1, BIG)),
        FidelityError,
        ("must be finite numbers", "digits"),
    ),
    Case(
        "Fidelity() bool",
        lambda t: Fidelity("epoch", (True, 2)),
        FidelityError,
        ("must be finite numbers", "True"),
    ),
    Case(
        "Float() bound",
        lambda t: Float("x", 0, BIG),
        ConfigError,
        ("`low < high` (finite) must hold", "digits"),
    ),
    Case(
        "Float.validate",
        lambda t: Float("x", 0, 1).validate(BIG),
        ConfigError,
        ("x must lie in [0.0, 1.0]", "digits"),
    ),
    Case("Int() bound", lambda t: Int("x", 0, BIG), ConfigError, ("within ±2**53",)),
    Case(
        "Int.validate",
        lambda t: Int("x", 0, 10).validate(BIG),
        ConfigError,
        ("x must lie in [0, 10]",),
    ),
    Case(
        "Int.validate bool",
        lambda t: Int("x", 0, 10).validate(True),
        ConfigError,
        ("must be an integer", "True"),
    ),
    Case(
        "Float(log='yes')",
        lambda t: Float("x", 1, 2, log="yes"),
        ConfigError,
        ("log must be true or false", "'yes'"),
    ),
    Case(
        "Int(log=1)", lambda t: Int("x", 1, 2, log=1), ConfigError, ("log must be true or false",)
    ),
    Case(
        "Ordinal(dict)",
        lambda t: Ordinal("x", {"a": 1, "b": 2}),
        ConfigError,
        ("must be a sequence of values", "not a dict"),
    ),
    Case(
        "Categorical(set)",
        lambda t: Categorical("x", {"a", "b"}),
        ConfigError,
        ("must be a sequence of values", "not a set"),
    ),
    Case(
        "space[['a']]",
        lambda t: _bench().space[["a"]],
        ConfigError,
        ("looked up by its name (a str)", "list"),
    ),  # type: ignore[index]
    Case(
        "SearchSpace.from_json deep",
        lambda t: SearchSpace.from_json("[" * 100_000 + "]" * 100_000),
        ConfigError,
        ("nested too deeply",),
    ),
    Case(
        "SearchSpace.from_dict log string",
        lambda t: SearchSpace.from_dict(_space_with(log="false")),
        ConfigError,
        ("log must be true or false", "'false'"),
    ),
    Case(
        "SearchSpace.sample_many n",
        lambda t: SPACE.sample_many(np.random.default_rng(0), BIG),
        ConfigError,
        ("`n >= 0`", "at most"),
    ),
    Case(
        "SearchSpace.sample_many float n",
        lambda t: SPACE.sample_many(np.random.default_rng(0), 1e12),
        ConfigError,
        ("`n >= 0`",),
    ),
    Case(
        "make(id, foo=1)",
        lambda t: hpobench.make(BENCH, foo=1),
        HPOBenchError,
        ("takes no keywords for a table benchmark", "foo"),
    ),
    Case("make(3)", lambda t: hpobench.make(3), BenchmarkNotFoundError, ("must be a string",)),  # type: ignore[arg-type]
    Case(
        "run_suite repetitions",
        lambda t: hpobench.run_suite(
            "baselines/random_search.py", "sf-serial-v2", out=t / "o", repetitions=10**59
        ),
        ProtocolError,
        ("repetitions must be an integer in [1, 10000]",),
    ),
    Case(
        "run_suite repetitions float",
        lambda t: hpobench.run_suite(
            "baselines/random_search.py", "sf-serial-v2", out=t / "o", repetitions=2.0
        ),
        ProtocolError,
        ("repetitions must be an integer", "2.0"),
    ),
    Case(
        "run_suite out ''",
        lambda t: hpobench.run_suite(
            "baselines/random_search.py", "sf-serial-v2", out="", repetitions=1, suite=BENCH
        ),
        ProtocolError,
        ("non-empty path", "current directory"),
    ),
    Case(
        "run_suite on_changed",
        lambda t: hpobench.run_suite(
            "baselines/random_search.py", "sf-serial-v2", out=t / "o", on_changed="maybe"
        ),
        ProtocolError,
        ("on_changed must be one of",),
    ),
    # long-format importer: data the harness would choke on
    Case(
        "import_long_format runtime nan",
        lambda t: _long(t, _frame(runtime=[1.0, np.nan, 1, 2, 1, 2, 1, 2])),
        TableError,
        ("must be finite in every present cell",),
    ),
    Case(
        "import_long_format runtime per step",
        lambda t: _long(t, _frame(runtime=[1.0, 1.0] * 4)),
        TableError,
        ("must be cumulative", "cumsum"),
    ),
    Case(
        "import_long_format runtime negative",
        lambda t: _long(t, _frame(runtime=[-1.0, 1.0] * 4)),
        TableError,
        ("must be >= 0",),
    ),
    Case(
        "import_long_format no test seed",
        lambda t: _long(t, _frame(), test_seeds=[]),
        TableError,
        ("test_seeds must list at least one seed",),
    ),
    Case(
        "import_long_format test objective",
        lambda t: _long(t, _frame(), objective="test_loss"),
        TableError,
        ("must not be a test-split metric",),
    ),
    Case(
        "import_long_format seed 0.5",
        lambda t: _long(t, _frame(), tuning_seeds=[0.5]),
        TableError,
        ("each tuning seed must be an integer", "0.5"),
    ),
    Case(
        "import_long_format seed True",
        lambda t: _long(t, _frame(), tuning_seeds=[True]),
        TableError,
        ("each tuning seed must be an integer", "bool"),
    ),
    Case(
        "import_long_format text values",
        lambda t: _long(t, _frame(valid_loss=["a"] * 8)),
        TableError,
        ("column 'valid_loss' must hold numbers",),
    ),
    Case(
        "import_long_format missing policy",
        lambda t: _long(t, _frame(), missing="pad"),
        TableError,
        ("missing must be 'error', 'drop' or 'nan'",),
    ),
    Case(
        "import_long_format binary file",
        lambda t: _long(t, _file(t, "x.parquet", b"\x00\xff" * 64)),
        TableError,
        ("must be a readable .parquet file",),
    ),
    Case(
        "import_long_format empty csv",
        lambda t: _long(t, _file(t, "x.csv", b"")),
        TableError,
        ("must be a CSV table with a header row",),
    ),
    Case(
        "import_long_format empty parquet",
        lambda t: _long(t, _file(t, "x.parquet", b"")),
        TableError,
        ("must be a readable .parquet file",),
    ),
    Case(
        "import_long_format binary csv",
        lambda t: _long(t, _file(t, "x.csv", b"\xff\xfe\x00\x01" * 40)),
        TableError,
        ("x.csv",),
    ),
    Case(
        "import_long_format suffix",
        lambda t: _long(t, _file(t, "x.xlsx", b"data")),
        TableError,
        ("must end in .csv, .tsv or .parquet",),
    ),
    # the spec JSON: a schema, nothing coerced
    Case(
        "spec null",
        lambda t: LongSpec.from_dict(None),
        TableError,
        ("must be a JSON object", "null"),
    ),
    Case(
        "spec list",
        lambda t: LongSpec.from_dict([]),
        TableError,
        ("must be a JSON object", "array"),
    ),
    Case(
        "spec missing field",
        _spec(objective=_DROP),
        TableError,
        ("['objective'] are required but missing",),
    ),
    Case(
        "spec unknown field",
        _spec(tuning_seed=[0]),
        TableError,
        ("unknown field 'tuning_seed'", "Did you mean one of 'tuning_seeds'"),
    ),
    Case(
        "spec seeds null",
        _spec(tuning_seeds=None),
        TableError,
        ("field 'tuning_seeds' must be a JSON array", "null"),
    ),
    Case(
        "spec seeds 0.5",
        _spec(tuning_seeds=[0.5]),
        TableError,
        ("each of 'tuning_seeds' must be an integer", "0.5"),
    ),
    Case(
        "spec seeds true",
        _spec(tuning_seeds=[True]),
        TableError,
        ("each of 'tuning_seeds' must be an integer", "(a bool)"),
    ),
    Case(
        "spec test seeds empty",
        _spec(test_seeds=[]),
        TableError,
        ("'test_seeds' must list at least one seed",),
    ),
    Case(
        "spec log 'false'",
        _spec(space=_space_with(log="false")),
        TableError,
        ("log must be true or false", "'false'"),
    ),
    Case(
        "spec missing split",
        _spec(metrics={"valid_loss": {"direction": "minimize"}}),
        TableError,
        ("must be an object with 'direction', 'split'",),
    ),
    Case(
        "spec metric not object",
        _spec(metrics={"valid_loss": "minimize"}),
        TableError,
        ("must be an object with 'direction', 'split'",),
    ),
    Case("spec id number", _spec(id=3), TableError, ("field 'id' must be a JSON string",)),
    Case("spec bad id", _spec(id="Mine"), TableError, ("must look like 'family/task-vN'",)),
    Case(
        "spec missing policy", _spec(missing="pad"), TableError, ("field 'missing' must be one of",)
    ),
    Case(
        "spec file binary",
        lambda t: read_spec(_file(t, "s.json", b"\xff\xfe\x00")),
        TableError,
        ("must be UTF-8 JSON text",),
    ),
    Case(
        "spec file empty",
        lambda t: read_spec(_file(t, "s.json", b"")),
        TableError,
        ("must be valid JSON",),
    ),
    Case(
        "spec file deep",
        lambda t: read_spec(_file(t, "s.json", b"[" * 100_000 + b"]" * 100_000)),
        TableError,
        ("nested too deeply",),
    ),
    Case(
        "spec file missing",
        lambda t: read_spec(t / "nope.json"),
        TableError,
        ("must be a readable JSON file",),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.entry for c in CASES])
def test_bad_input(case: Case, tmp_path: Path) -> None:
    with pytest.raises(case.error) as info:
        case.call(tmp_path)
    assert isinstance(info.value, HPOBenchError), f"{type(info.value).__name__}: {info.value}"
    message = str(info.value)
    for words in case.words:
        assert words in message, message


def test_valid_numpy_scalars_and_0d_arrays_are_accepted() -> None:
    bench = _bench()
    c = _config()
    plain = bench.query(c, fidelity=100, seed=0).metrics
    assert bench.query(c, fidelity=np.int64(100), seed=np.int64(0)).metrics == plain
    assert bench.query(c, fidelity=np.array(100), seed=np.array(0)).metrics == plain
    zero_d = {k: np.array(v) for k, v in c.items()}
    assert bench.query(zero_d, fidelity=100, seed=0).metrics == plain
    assert Int("x", np.int64(0), np.array(5)).high == 5
    assert Float("x", np.float32(0.5), np.array(2.0)).low == 0.5
    assert Fidelity("epoch", np.array([1, 2, 3])).values == (1, 2, 3)


# -- the command line: one line "error: ...", exit code 2, never a traceback -----------------------
def _write(tmp: Path, name: str, content: str | bytes) -> str:
    p = tmp / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return str(p)


CLI_CASES: list[tuple[str, Callable[[Path], list[str]], tuple[str, ...]]] = [
    (
        "import long --out a file",
        lambda t: [
            "import",
            "long",
            "--input",
            _write(t, "in.csv", "a\n1\n"),
            "--spec",
            _write(t, "s.json", json.dumps(GOOD_SPEC)),
            "--out",
            _write(t, "f", "x"),
        ],
        ("--out must be a directory", "is a file"),
    ),
    (
        "import long --out ''",
        lambda t: [
            "import",
            "long",
            "--input",
            _write(t, "in.csv", "a\n1\n"),
            "--spec",
            _write(t, "s.json", "{}"),
            "--out",
            "",
        ],
        ("--out must name a directory",),
    ),
    (
        "import long spec null",
        lambda t: [
            "import",
            "long",
            "--input",
            _write(t, "in.csv", "a\n1\n"),
            "--spec",
            _write(t, "s.json", "null"),
        ],
        ("must be a JSON object", "null"),
    ),
    (
        "import long binary input",
        lambda t: [
            "import",
            "long",
            "--input",
            _write(t, "in.parquet", b"\x00" * 50),
            "--spec",
            _write(t, "s.json", json.dumps(GOOD_SPEC)),
        ],
        ("must be a readable .parquet file",),
    ),
    (
        "run --out ''",
        lambda t: [
            "run",
            "--optimizer",
            "baselines/random_search.py",
            "--protocol",
            "sf-serial-v2",
            "--out",
            "",
            "--suite",
            BENCH,
            "--repetitions",
            "1",
            "--no-progress",
        ],
        ("non-empty path",),
    ),
    (
        "run --repetitions huge",
        lambda t: [
            "run",
            "--optimizer",
            "baselines/random_search.py",
            "--protocol",
            "sf-serial-v2",
            "--out",
            str(t / "o"),
            "--repetitions",
            str(10**59),
            "--no-progress",
        ],
        ("repetitions must be an integer in [1, 10000]",),
    ),
    (
        "generate --n-configs huge",
        lambda t: [
            "generate",
            "lcbench/phoneme",
            "--out",
            str(t / "g"),
            "--n-configs",
            str(10**12),
        ],
        ("n_configs must be an integer in [1, 100000000]",),
    ),
    (
        "generate --seeds beyond int64",
        lambda t: ["generate", "gbt/concrete", "--out", str(t / "g"), "--seeds", "0", str(2**64)],
        ("each training seed must be an integer in [0, 9223372036854775807]",),
    ),
]


@pytest.mark.parametrize(("name", "argv", "words"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_bad_cli_input(
    name: str, argv: Callable[[Path], list[str]], words: tuple[str, ...], tmp_path: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(Path(__file__).resolve().parents[1])  # baselines/ paths as in the README
    assert main(argv(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err, err
    for w in words:
        assert w in err, err
