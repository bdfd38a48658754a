"""Business continuity: pairing, sync, plan status, BCP access, readiness, switchover, routing."""
