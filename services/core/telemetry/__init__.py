"""Telemetry: agents and their enrollment, the ingest inbox and pings (API side); state, history
and measured RPO/RTO (worker side)."""
