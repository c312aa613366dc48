"""The pure parts of servicekit import no broker or framework code."""

from __future__ import annotations

import subprocess
import sys


def test_importing_servicekit_pulls_in_neither_kombu_nor_nameko_nor_eventlet() -> None:
    code = (
        "import sys, servicekit, servicekit.envelope, servicekit.ids; "
        "loaded = {'kombu', 'nameko', 'eventlet', 'amqp'} & set(sys.modules); "
        "print(sorted(loaded)); sys.exit(1 if loaded else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, f"imported: {result.stdout}{result.stderr}"
