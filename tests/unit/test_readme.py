"""The README's Python examples run exactly as written (executable docs)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_has_python_examples() -> None:
    assert python_blocks(), "README lost its examples"


def test_every_python_example_in_the_readme_runs() -> None:
    for index, block in enumerate(python_blocks()):
        code = compile(block, f"README.md[python block {index}]", "exec")
        exec(code, {"__name__": f"readme_{index}"})
