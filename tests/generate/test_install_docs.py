"""The generation install a newcomer follows pins torch's CPU build, the version CI pins.

Followed literally, ``pip install 'hpobench[train]'`` on Linux pulls PyPI's multi-GB CUDA build
of torch (issue 13, item 5). Every documented install of the ``train`` extra, and the error a
missing torch raises, must install the pinned CPU wheel first.
"""

from __future__ import annotations

import builtins
import re
from pathlib import Path
from typing import Any

import pytest

from hpobench.generate._curves import TORCH_CPU_INSTALL, import_torch
from hpobench.generate._errors import GenerationError

ROOT = Path(__file__).resolve().parents[2]
CPU_INDEX = "--index-url https://download.pytorch.org/whl/cpu"


def _ci_torch_version() -> str:
    pins = re.findall(r'torch==([0-9][0-9.]*)"', (ROOT / ".ci" / "run").read_text())
    assert len(set(pins)) == 1, f".ci/run must pin one torch version, found {pins}"
    return pins[0]


def _code_blocks(text: str) -> list[list[str]]:
    return [block.splitlines() for block in re.findall(r"```bash\n(.*?)```", text, re.S)]


@pytest.mark.parametrize("doc", ["README.md", "docs/generate.md"])
def test_documented_train_installs_pin_the_cpu_build_first(doc: str) -> None:
    version = _ci_torch_version()
    found = 0
    for block in _code_blocks((ROOT / doc).read_text()):
        for i, line in enumerate(block):
            command = line.split("#", 1)[0]
            if "pip install" not in command or not re.search(r"\[[^\]]*\btrain\b", command):
                continue
            found += 1
            before = [b.split("#", 1)[0] for b in block[:i]]
            assert any(f'torch=={version}"' in b and CPU_INDEX in b for b in before), (
                f"{doc}: `{line.strip()}` must come after a pinned CPU torch install "
                f"(torch=={version} {CPU_INDEX}), as in .ci/run"
            )
    assert found, f"{doc} documents no install of the train extra"


def test_the_pinned_command_is_the_one_ci_pins() -> None:
    assert f'torch=={_ci_torch_version()}"' in TORCH_CPU_INSTALL
    assert CPU_INDEX in TORCH_CPU_INSTALL


def test_missing_torch_error_says_to_install_the_cpu_build(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_torch(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "torch" or name.startswith("torch."):
            raise ImportError("No module named 'torch'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    with pytest.raises(GenerationError) as info:
        import_torch()
    message = str(info.value)
    assert TORCH_CPU_INSTALL in message and "hpobench[train]" in message
    assert message.index(TORCH_CPU_INSTALL) < message.index("hpobench[train]")
