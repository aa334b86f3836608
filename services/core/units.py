"""How precisely link quality is reported: the same everywhere a number leaves the server
(dashboard, finding texts), so no screen shows "2.19178 %" and no database decimal leaks as a string.

Loss is a percentage of probes (agents send a handful per sample), so hundredths are already
finer than it is measured; latency and jitter come from ICMP/TCP timings, precise to a tenth of a
millisecond at best.
"""

from __future__ import annotations

from decimal import Decimal

LOSS_PCT_DIGITS = 2
MS_DIGITS = 1


def _rounded(value: float | Decimal | None, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def loss_pct(value: float | Decimal | None) -> float | None:
    return _rounded(value, LOSS_PCT_DIGITS)


def ms(value: float | Decimal | None) -> float | None:
    return _rounded(value, MS_DIGITS)


def in_words(value: float, unit: str) -> str:
    """A measured link quality for a finding ("2.19 %", "151.3 ms")."""
    digits = LOSS_PCT_DIGITS if unit == "%" else MS_DIGITS
    return f"{round(float(value), digits):g} {unit}"
