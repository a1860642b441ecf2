"""The trigger map: :class:`Trigger` rules read from an editable YAML file (``triggers.yaml``,
like the RFM segment map ``rfm/segments.yaml``), checked with errors that name the file and
the trigger."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from .. import messages

# kind -> its parameters with their defaults
KINDS: dict[str, dict] = {
    "rfm_segment": {"roles": ["at_risk"]},
    "p_alive_drop": {"threshold": 0.5, "valuable_share": 0.2},
    "overdue": {"times": 2.0, "min_purchases": 3},
    "no_second_purchase": {"days": 60},
    "complaint_closed": {"max_satisfaction": 2},
    "birthday": {},
    "anniversary": {},
    "large_first_purchase": {"quantile": 0.9, "min_amount": None},
}
CHANNELS = ("direct_mail", "sms", "email", "outbound_call")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Trigger:
    """One trigger rule: what fires it (``kind`` with ``params``), what it is called, what the
    marketer sends (``action``, by ``channel``), its place among triggers (``priority``, 1
    first) and the share of its list held out at random (``holdout``)."""

    name: str
    kind: str
    label_en: str
    label_zh: str
    action: str
    action_zh: str
    channel: str
    priority: int
    holdout: float
    response_window_days: int = 30
    cost_per_contact: float = 0.0
    params: dict = field(default_factory=dict)

    def label(self, lang: str | None = None) -> str:
        from ..present import words

        return self.label_zh if (lang or words.lang()) == "zh" else self.label_en

    def action_in(self, lang: str | None = None) -> str:
        from ..present import words

        return (self.action_zh or self.action) if (lang or words.lang()) == "zh" else self.action


@dataclass(frozen=True)
class Triggers:
    """The trigger map: the rules in file order and the length of one period in days."""

    triggers: tuple[Trigger, ...]
    period_days: int = 30
    source: str = "triggers.yaml"

    @property
    def names(self) -> list[str]:
        return [t.name for t in self.triggers]

    def get(self, name: str) -> Trigger:
        for t in self.triggers:
            if t.name == name:
                return t
        raise ValueError(f"unknown trigger {name!r}; the map ({self.source}) has: {', '.join(self.names)}")

    def frame(self, lang: str | None = None):
        """The map as a reader sees it: trigger (label), channel, priority, hold-out share, action."""
        import pandas as pd

        return pd.DataFrame([{"trigger": t.label(lang), "channel": t.channel, "priority": t.priority,
                              "holdout_share": t.holdout, "action": t.action_in(lang)} for t in self.triggers])


def load_triggers(path: str | Path | Triggers | None = None) -> Triggers:
    """Read a trigger map (YAML). ``None`` or ``""`` reads the default map bundled with the package.

    The file holds ``period_days`` and ``triggers:``, a list of name, kind, label_en, label_zh,
    action (action_zh optional), channel, priority, holdout, and optionally
    response_window_days, cost_per_contact and params (see :data:`KINDS` for each kind's
    parameters and their defaults). Errors name the file and the trigger."""
    if isinstance(path, Triggers):
        return path
    if path is None or (isinstance(path, str) and not path.strip()):
        spec = messages.safe_load((files("dbmarketing.events") / "triggers.yaml").read_text(encoding="utf-8"))
        where = "lib/dbmarketing/events/triggers.yaml"
    else:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"trigger map {path} does not exist")
        spec, where = messages.read_yaml(path, ValueError, "trigger map"), str(path)
    if not isinstance(spec, dict) or not isinstance(spec.get("triggers"), list) or not spec["triggers"]:
        raise ValueError(f"{where}: needs a list 'triggers:' of triggers")
    period = spec.get("period_days", 30)
    if not isinstance(period, int) or period < 1:
        raise ValueError(f"{where}: period_days must be a whole number of days >= 1, got {period!r}")
    out = []
    for i, item in enumerate(spec["triggers"]):
        label = f"{where}: trigger {i + 1}"
        if not isinstance(item, dict):
            raise ValueError(f"{label}: must be a mapping with name, kind, labels, action, channel, priority, holdout")
        label = f"{label} ({item.get('name', '?')})"
        missing = [k for k in ("name", "kind", "label_en", "label_zh", "action", "channel", "priority", "holdout")
                   if item.get(k) is None or item.get(k) == ""]
        if missing:
            raise ValueError(f"{label}: missing {', '.join(missing)}")
        if not _NAME.match(str(item["name"])):
            raise ValueError(f"{label}: a name is lower case letters, digits and _, starting with a letter")
        if item["kind"] not in KINDS:
            raise ValueError(f"{label}: kind {item['kind']!r} is not one of {', '.join(KINDS)}")
        if item["channel"] not in CHANNELS:
            raise ValueError(f"{label}: channel {item['channel']!r} is not one of {', '.join(CHANNELS)}")
        holdout = item["holdout"]
        if not isinstance(holdout, (int, float)) or not 0 < holdout < 1:
            raise ValueError(f"{label}: holdout is the share held out, between 0 and 1 (exclusive), got {holdout!r}")
        if not isinstance(item["priority"], int) or item["priority"] < 1:
            raise ValueError(f"{label}: priority is a whole number >= 1 (1 first), got {item['priority']!r}")
        params = dict(KINDS[item["kind"]])
        given = item.get("params") or {}
        unknown = sorted(set(given) - set(params))
        if unknown:
            raise ValueError(f"{label}: unknown params {', '.join(unknown)}; {item['kind']} takes "
                             f"{', '.join(params) or 'none'}")
        params.update(given)
        out.append(Trigger(str(item["name"]), item["kind"], str(item["label_en"]), str(item["label_zh"]),
                           " ".join(str(item["action"]).split()), " ".join(str(item.get("action_zh") or "").split()),
                           item["channel"], int(item["priority"]), float(holdout),
                           int(item.get("response_window_days", 30)), float(item.get("cost_per_contact", 0.0)),
                           params))
    names = [t.name for t in out]
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        raise ValueError(f"{where}: trigger names must be unique, repeated: {', '.join(doubles)}")
    return Triggers(tuple(out), period, where)
