"""Link quality leaves the server rounded: loss to hundredths of a percent, times to a tenth of a ms."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

from services.core import units
from services.core.alerts import rules as R
from services.core.alerts import rules_live  # noqa: F401  (registers the checks)
from services.core.alerts.facts import LinkFacts, PracticeFacts


def test_loss_and_times_are_rounded_floats_whatever_the_database_gave():
    assert units.loss_pct(Decimal("100.0000000000000000")) == 100.0 and isinstance(units.loss_pct(Decimal("0E-20")), float)
    assert units.loss_pct(2.19178) == 2.19 and units.ms(Decimal("33.33333333333333333333")) == 33.3
    assert units.loss_pct(None) is None and units.ms(None) is None


def test_a_finding_about_packet_loss_says_2_19_percent_not_2_19178():
    pid, site = uuid.uuid4(), uuid.uuid4()
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    link = LinkFacts(id=uuid.uuid4(), practice_id=pid, site_id=site, name="Fiber", role="primary", loss_threshold_pct=2,
                     latency_threshold_ms=150, jitter_threshold_ms=30, created_at=datetime(2026, 1, 1, tzinfo=timezone.utc), up=True, loss_pct=2.19178, latency_ms=151.2649,
                     jitter_ms=30.46, last_sample_at=now)  # sampled just now: a link with no data is not judged
    facts = PracticeFacts(practice_id=pid, name="Clinic", links=[link])
    measured = {rule_id: [h.finding.measured for h in R.get(rule_id).check(facts, {"threshold": None}, now)]
                for rule_id in (R.LINK_LOSS, R.LINK_LATENCY, R.LINK_JITTER)}
    assert measured == {R.LINK_LOSS: ["2.19 %"], R.LINK_LATENCY: ["151.3 ms"], R.LINK_JITTER: ["30.5 ms"]}
