"""Who and where: tenants, operators, sessions, login, usernames, the audit log, region status."""
