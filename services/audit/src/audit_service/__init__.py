"""Firewatch audit service: the auditor's read-only view of the whole log.

It verifies every stream's hash chain, seals the log with Ed25519-signed checkpoints
kept outside the database, replays any stream as of an instant or position, and exports
signed evidence bundles. It reads every category and appends only to its own
(`auditaccess`, `auditseal`); it never changes another service's facts.
"""
