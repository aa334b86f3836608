"""The one way an applier says "this recorded event itself is invalid and can never be applied".

Only the event's own fault may set it aside (into the dead-letter list an MSP sees and can replay
once the cause is fixed): an event that names a job of another site, a payload the current schema
refuses, a reference that no longer exists. Any other exception out of the appliers is a bug or an
outage: it fails the batch loudly and the batch is retried, never swallowed event by event.
"""

from __future__ import annotations


class UnapplicableEvent(Exception):
    """Raised by an applier for one event that cannot be applied; carries a plain-words reason.

    `seq` is the inbox row's sequence number where the applier knows it, so the worker can set
    aside exactly that event without bisecting the batch.
    """

    def __init__(self, reason: str, *, seq: int | None = None, code: str = "unapplicable", field: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seq = seq
        self.code = code
        self.field = field  # the payload field at fault, where one is

    def each(self) -> list["UnapplicableEvent"]:
        """The events this refusal names (one here; several for UnapplicableEvents)."""
        return [self]


class UnapplicableEvents(UnapplicableEvent):
    """Every unapplicable event one check found, raised at once.

    A check that named only the first offender let the worker set aside one event per round, so a
    batch with more offenders than rounds never committed and the MSP stalled for good
    (docs/decisions/0012-set-aside-all-at-once.md).
    """

    def __init__(self, events: list[UnapplicableEvent]) -> None:
        if not events:
            raise ValueError("UnapplicableEvents needs at least one event")
        first = events[0]
        super().__init__(first.reason, seq=first.seq, code=first.code, field=first.field)
        self.events = [e for exc in events for e in exc.each()]

    def each(self) -> list[UnapplicableEvent]:
        return list(self.events)


def raise_all(events: list[UnapplicableEvent]) -> None:
    """Raise the one event, or all of them together; nothing when the list is empty."""
    if len(events) == 1:
        raise events[0]
    if events:
        raise UnapplicableEvents(events)
