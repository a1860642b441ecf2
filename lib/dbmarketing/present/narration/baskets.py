"""Chapter 07, what sells with what: the sentences its report prints and the items as a reader
reads them (the ``baskets.*`` texts of :mod:`dbmarketing.present.words`)."""

from __future__ import annotations

import pandas as pd

from .. import words


def _t(key: str, **values) -> str:
    return words.text(f"baskets.{key}", **values)


def item_text(item, names: dict | None = None, segments: dict | None = None) -> str:
    """One item as a reader reads it: a product code with its name (``names``), a category,
    or ``attribute=value`` as "attribute: value" in the reader's words (RFM segments by
    ``segments``, the map's labels)."""
    item = str(item)
    if names is not None and item in names and isinstance(names[item], str):
        return f"{item} {names[item]}"
    if "=" in item:
        attribute, _, value = item.partition("=")
        value = (segments or {}).get(value, value) if attribute == "segment" else words.label(value)
        return f"{words.header(attribute)}: {value}"
    return str(words.label(item))


def itemset_text(itemset, names: dict | None = None, segments: dict | None = None) -> str:
    items = itemset if isinstance(itemset, (tuple, list)) else (itemset,)
    return " + ".join(item_text(i, names, segments) for i in items)


def readable(frame: pd.DataFrame, columns=("antecedent", "consequent", "itemset", "because"), names=None,
             segments=None) -> pd.DataFrame:
    """A copy of ``frame`` with its item columns as text (:func:`itemset_text`)."""
    out = frame.copy()
    for col in columns:
        if col in out:
            out[col] = [None if v is None else itemset_text(v, names, segments) for v in out[col]]
    return out


def segment_names(segments=None) -> dict:
    """RFM segment name -> its label in the reader's language (the segment map's)."""
    from ... import rfm

    seg_map = rfm.load_segments(segments)
    lang = words.lang()
    return {s.name: getattr(s, f"label_{lang}") for s in (*seg_map.segments, seg_map.prospects)}


def demo(found) -> str:
    lv = found.levels.set_index("level")
    return _t("demo_reading", baskets=found.transactions, support=found.min_support, min_count=found.min_count,
              items=int(lv.loc[1, "candidates"]), frequent1=int(lv.loc[1, "frequent"]),
              pairs=int(lv.loc[2, "candidates"]) if 2 in lv.index else 0,
              frequent2=int(lv.loc[2, "frequent"]) if 2 in lv.index else 0,
              triples=int(lv.loc[3, "candidates"]) if 3 in lv.index else 0,
              frequent3=int(lv.loc[3, "frequent"]) if 3 in lv.index else 0)


def overview(found, level: str, as_of) -> str:
    lv = found.levels
    pruned = int(lv.pruned.sum())
    return _t(f"overview_{level}", orders=found.transactions, as_of=as_of, support=found.min_support,
              min_count=found.min_count, items=int(lv.candidates.iloc[0]), frequent=len(found.frequent),
              pruned=pruned)


def no_rules(found, level: str) -> str:
    return _t("no_rules", support=found.min_support, min_count=found.min_count, level=_t(f"level_{level}"))


def reading_rules(rule_table: pd.DataFrame, names: dict) -> str:
    top = rule_table.iloc[0]
    return _t("reading_rules", rules=len(rule_table), antecedent=itemset_text(top.antecedent, names),
              consequent=itemset_text(top.consequent, names), confidence=top.confidence, lift=top.lift,
              base=top.consequent_support)


def recall(found: pd.DataFrame, kind: str) -> str:
    return _t(f"recall_{kind}", planted=len(found), found=int(found.found.sum()), recall=found.attrs["recall"])


def no_truth() -> str:
    return _t("no_truth")


def reading_sequences(seq: pd.DataFrame, names: dict) -> str:
    if seq.empty:
        return _t("no_sequences")
    top = seq.iloc[0]
    return _t("reading_sequences", pairs=len(seq), antecedent=item_text(top.antecedent, names),
              consequent=item_text(top.consequent, names), customers=int(top.customers),
              antecedent_customers=int(top.antecedent_customers), confidence=top.confidence, baseline=top.baseline,
              lift=top.lift)


def offers(table: pd.DataFrame, customers: int) -> str:
    basis = table.attrs["basis"]
    text = _t("offers_overview", offers=len(table), customers=customers, rules=table.attrs["rules"],
              basis=_t(f"basis_{basis.replace(' x ', '_')}"))
    if table.attrs["without_cost"]:
        text += " " + _t("offers_without_cost", products=table.attrs["without_cost"])
    return text


def offers_written(folder: str, dropped) -> str:
    text = _t("offers_written", folder=folder)
    if dropped:
        text += " " + _t("offers_dropped", columns=", ".join(words.header(c) for c in dropped))
    return text


def responders(table: pd.DataFrame, campaign_count: int) -> str:
    return _t("responders_overview", contacts=table.attrs["contacts"], campaigns=campaign_count,
              rate=table.attrs["response_rate"], rules=len(table))


def no_responder_rules() -> str:
    return _t("no_responder_rules")
