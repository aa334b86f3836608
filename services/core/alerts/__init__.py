"""Alerts: the live-rules catalogue, policies, incidents, maintenance windows and notifications."""
