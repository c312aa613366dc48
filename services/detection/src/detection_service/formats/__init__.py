"""Pure parsers for the alert formats existing tools already send.

Each parser takes untrusted decoded JSON (any Python value) and returns either
normalised signals or a list of error strings, each naming the bad field
("payload.severity: must be one of critical, error, warning, info"). They never
raise on bad input: hypothesis fuzz tests hold them to that.
"""
