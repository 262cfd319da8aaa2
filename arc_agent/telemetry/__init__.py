"""Telemetry: span attribute names, tracer provider set-up and the export chain (generic: knows
nothing about LLMs or browsers)."""
