"""Firewatch paging and on-call: who is on call, whom to page, and making sure they know.

One module per aggregate (`user`, `team`, `schedule`, `policy`, `escalation`, `page`),
each pure; `due` is the projection of durable timers; `app` is the application layer
every adapter (nameko worker, gRPC OnCallService, delivery adapters, CLI) calls.
"""
