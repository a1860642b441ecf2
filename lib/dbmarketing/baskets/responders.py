"""Rules over customer attributes: what the responders of a campaign share. A contact is a
transaction, its attributes (``attribute=value``) are its items, and responding is one more
item; the rules A -> responded are mined by the same engine as baskets."""

from __future__ import annotations

import pandas as pd

from .engine import mine, rules

__all__ = ["RESPONDED", "attribute_transactions", "responder_rules", "split_item"]

RESPONDED = "responded=yes"


def split_item(item: str) -> tuple[str, str]:
    """``"gender=F"`` -> ``("gender", "F")``."""
    attribute, _, value = str(item).partition("=")
    return attribute, value


def attribute_transactions(frame: pd.DataFrame, attributes, target: str | None = None) -> pd.DataFrame:
    """One transaction per row of ``frame`` (``tid`` = its position), its items ``attribute=value``
    for each of ``attributes`` that is not empty, plus :data:`RESPONDED` where the 0/1 column
    ``target`` is 1."""
    parts = []
    for attribute in attributes:
        values = frame[attribute]
        ok = values.notna().to_numpy()
        parts.append(pd.DataFrame({"tid": range(len(frame)), "item": f"{attribute}=" + values.astype(str)})[ok])
    if target is not None:
        yes = frame[target].fillna(0).astype(bool).to_numpy()
        parts.append(pd.DataFrame({"tid": range(len(frame)), "item": RESPONDED})[yes])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["tid", "item"])


def responder_rules(features: pd.DataFrame, attributes, min_support: float = 0.01, max_len: int = 3,
                    cell: str | None = "test", target: str = "responded") -> pd.DataFrame:
    """The attribute combinations A with the rule A -> responded, among the contacts of
    ``cell`` (:func:`dbmarketing.campaigns.contact_features` rows): ``contacts`` with A,
    ``responders`` among them, ``response_rate`` (the rule's confidence), ``share_of_responders``
    (how many of all responders have A) and ``lift`` (response rate against the cell's: above 1,
    A describes responders). ``attributes``: those of the frame to use. Strongest lift first;
    ``attrs["response_rate"]`` is the cell's rate."""
    frame = features if cell is None else features[features["cell"] == cell]
    attributes = [a for a in attributes if a in frame.columns]
    tx = attribute_transactions(frame.reset_index(drop=True), attributes, target)
    found = mine(None, tx, min_support=min_support, max_len=max_len)  # a small frame: a database of its own
    r = rules(found)
    r = r[r.consequent.map(lambda c: c == (RESPONDED,))].reset_index(drop=True)
    n, rate = found.transactions, float(frame[target].fillna(0).astype(bool).mean()) if len(frame) else float("nan")
    responders = (r.support * n).round().astype(int)
    total = int(frame[target].fillna(0).astype(bool).sum())
    out = pd.DataFrame({
        "antecedent": r.antecedent, "contacts": (r.antecedent_support * n).round().astype(int),
        "responders": responders, "response_rate": r.confidence,
        "share_of_responders": responders / total if total else float("nan"), "lift": r.lift, "support": r.support})
    out.attrs.update(response_rate=rate, contacts=n)
    return out
