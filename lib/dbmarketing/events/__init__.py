"""Event-driven campaigns (notebook 06): trigger rules in an editable YAML map, evaluated at a
run's as-of date against the state one period earlier, one list per trigger with an always-on
random hold-out, recorded as that trigger's campaign, and the measurement of past triggers.

The parts (private; the names below are the public face):

- ``rules`` -- the trigger map (``triggers.yaml``, or the user's own file: ``triggers=``);
- ``evaluate`` -- the rules on a database at an as-of date, the hold-outs, the profiles and
  the exported lists; its docstring states every rule;
- ``record`` -- the lists recorded as campaigns (idempotent per as-of date) and the
  measurement of past triggers with :func:`dbmarketing.campaigns.results`.

Their SQL is in ``warehouse/sql/events.sql``.
"""

from .evaluate import (
    PROFILE,
    SIGNAL,
    TriggerRun,
    crossed_into,
    evaluate,
    export_lists,
    for_reader,
    fading,
    hold_out,
    large_first,
    no_second,
    overdue,
    overdue_ratio,
)
from .record import (
    PREFIX,
    campaign_id,
    measure,
    planted_effects,
    record_lists,
    recovery,
    trigger_campaigns,
    trigger_of,
)
from .rules import CHANNELS, KINDS, Trigger, Triggers, load_triggers

__all__ = [
    "CHANNELS", "KINDS", "Trigger", "Triggers", "load_triggers",
    "PROFILE", "SIGNAL", "TriggerRun", "evaluate", "export_lists", "for_reader", "hold_out",
    "crossed_into", "fading", "overdue", "overdue_ratio", "no_second", "large_first",
    "PREFIX", "campaign_id", "trigger_of", "record_lists", "trigger_campaigns", "measure",
    "planted_effects", "recovery",
]
