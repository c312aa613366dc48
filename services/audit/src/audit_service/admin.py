"""`firewatch-audit`: the operator's key commands (run where the key lives).

    firewatch-audit keygen --key FILE            create a new Ed25519 sealing key
    firewatch-audit rotate --key OLD --new NEW   adopt NEW, endorsed by OLD (an event)
    firewatch-audit seal --key FILE              append a seal now

They talk to the log directly with the `audit` writer; auditors use `incidentctl audit`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from audit_service.app import AuditApplication
from audit_service.config import AuditSettings
from audit_service.keys import SigningKeyError, generate_key, load_key
from contracts.domain import DomainError
from eventlog import open_store
from eventlog.clock import system_clock


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="firewatch-audit", description=__doc__)
    parser.add_argument("--store", help="log URL (default: FIREWATCH_STORE_URL)")
    parser.add_argument("--seal-file", type=Path, help="default: FIREWATCH_AUDIT_SEAL_FILE")
    commands = parser.add_subparsers(dest="command", required=True)
    keygen = commands.add_parser("keygen", help="create a new Ed25519 key file")
    keygen.add_argument("--key", type=Path, required=True)
    rotate = commands.add_parser("rotate", help="adopt a new sealing key")
    rotate.add_argument("--key", type=Path, required=True, help="the current key")
    rotate.add_argument("--new", type=Path, required=True, help="the new key")
    seal = commands.add_parser("seal", help="seal the log now")
    seal.add_argument("--key", type=Path, required=True)
    args = parser.parse_args(argv)
    settings = AuditSettings()
    try:
        if args.command == "keygen":
            key = generate_key(args.key)
            print(f"created key {key.key_id} in {args.key}")
            return 0
        store = open_store(args.store or settings.store_url, writer="audit")
        seal_file = args.seal_file or settings.audit_seal_file
        with store:
            app = AuditApplication(store, system_clock, key=load_key(args.key), seal_file=seal_file)
            if args.command == "rotate":
                record = app.rotate_key(load_key(args.new))
                print(f"sealing key is now {record['key_id']} (was {record['previous_key_id']})")
            else:
                record = app.seal()
                print(
                    f"sealed the log at position {record['position']} (seal {record['sequence']})"
                )
    except (SigningKeyError, DomainError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0
