"""The committed gRPC stubs are exactly what `make proto` generates from proto/."""

from __future__ import annotations

import filecmp
import importlib
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[3]
PROTO = ROOT / "proto"
STUBS = ROOT / "libs" / "protos" / "src"


def test_regenerating_the_stubs_changes_nothing(tmp_path: Path) -> None:
    sources = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    code = protoc.main(
        [
            "protoc",
            f"-I{PROTO}",
            f"-I{include}",
            f"--python_out={tmp_path}",
            f"--pyi_out={tmp_path}",
            f"--grpc_python_out={tmp_path}",
            *sources,
        ]
    )
    assert code == 0
    generated = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.py*"))
    committed = sorted(p.relative_to(STUBS) for p in STUBS.rglob("*_pb2*.py*"))
    assert generated == committed, "run `make proto` and commit the result"
    stale = [str(p) for p in generated if not filecmp.cmp(tmp_path / p, STUBS / p, shallow=False)]
    assert not stale, f"stale stubs (run `make proto`): {stale}"


def test_every_enum_starts_with_an_unspecified_zero_value() -> None:
    # buf's ENUM_ZERO_VALUE_SUFFIX rule: proto3 defaults an unset enum to 0, which must
    # never be mistaken for a real value.
    checked = 0
    for path in sorted(STUBS.rglob("*_pb2.py")):
        module = importlib.import_module(".".join(path.relative_to(STUBS).with_suffix("").parts))
        for enum in module.DESCRIPTOR.enum_types_by_name.values():
            zero = enum.values_by_number[0].name
            assert zero.endswith("_UNSPECIFIED"), f"{path.name}: {enum.name} value 0 is {zero}"
            checked += 1
    assert checked >= 3
