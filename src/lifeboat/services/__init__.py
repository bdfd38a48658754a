"""Use cases: one function per thing a user does. Entrypoints call these and nothing below."""
