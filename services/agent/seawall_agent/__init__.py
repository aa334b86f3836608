"""Seawall reference agent: probes links, wraps backup commands, sends heartbeats.

It shares no code with the server; the contract is docs/api/agent-protocol.md.
"""

__version__ = "0.1.0"
