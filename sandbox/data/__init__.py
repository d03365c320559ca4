"""Sandbox data: bundled synthetic patients (fictional people, real code systems)."""
