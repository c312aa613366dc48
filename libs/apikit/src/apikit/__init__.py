"""Public API plumbing shared by every service's gRPC process (no domain logic)."""
