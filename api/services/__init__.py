"""Application services: load rows, call workflows, persist, audit, commit (one transaction per command)."""
