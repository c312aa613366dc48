"""Firewatch postmortem service: blameless postmortems prefilled from the log, action
items with durable reminders, and incident metrics anyone can recompute (issue 11)."""
