"""The rules and sentences the chapters call (moved out of the notebooks by issue 12), on small
hand-computed cases."""

import pandas as pd
import pytest

from dbmarketing import campaigns, customers, ingest
from dbmarketing.present.narration import campaigns as campaign_story
from dbmarketing.present.narration import collection as collection_story
from dbmarketing.present.narration import customers as customer_story


def _c360():
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "d"],
        "customer_type": ["consumer", "consumer", "distributor", "consumer"],
        "lifecycle_stage": ["active", "lapsed", "active", "new"],
        "value_tier": ["MVC", "BZ", "MVC", "other"],
        "is_prospect": [False, False, False, True],
        "revenue": [100.0, 50.0, 300.0, 0.0], "revenue_12m": [60.0, 0.0, 200.0, 0.0],
        "cost_of_goods": [float("nan")] * 4, "gross_margin": [float("nan")] * 4,
        "return_cost": [1.0, 0.0, 2.0, 0.0], "service_cost": [3.0, 0.0, 0.0, 0.0],
        "contact_cost": [0.5, 0.5, 0.0, 0.0], "cost_to_serve": [4.5, 0.5, 2.0, 0.0],
        "profit": [float("nan")] * 4, "clv": [10.0, 1.0, 30.0, 0.0],
    })


def test_stage_counts_by_hand():
    out = customers.stage_counts(_c360(), ["new", "active", "lapsed", "reactivated"], "revenue")
    assert out.customers.tolist() == [1, 2, 1, 0]
    assert out.total_revenue_12m.tolist() == [0.0, 260.0, 0.0, 0.0]
    assert out.share_of_customers.tolist() == [0.25, 0.5, 0.25, 0.0]
    assert "total_profit" not in out  # revenue data: no profit column


def test_profit_bridge_leaves_unknown_figures_out():
    out = customers.profit_bridge(_c360()).set_index("figure").amount
    # no product costs: cost of goods, margin and profit are unknown, not zero
    assert list(out.index) == ["revenue", "returns handled", "service tickets", "campaign contacts", "cost to serve"]
    assert out["revenue"] == 450.0 and out["cost to serve"] == 7.0


def test_tier_summary_by_hand():
    out = customers.tier_summary(_c360(), ["MVC", "BZ", "other"], "revenue", with_clv=True)
    assert out.loc["MVC", "customers"] == 2 and out.loc["MVC", "total_revenue"] == 400.0
    assert out.loc["MVC", "share_of_revenue"] == pytest.approx(400 / 450)
    assert out.loc["BZ", "lapsed"] == 1 and out.loc["MVC", "mean_clv"] == 20.0
    assert "total_clv" not in customers.tier_summary(_c360(), ["MVC"], "revenue", with_clv=False)


def test_group_counts_and_type_tables():
    groups = pd.DataFrame({"win back": [True, False, True, True], "vip": [False, False, True, False]})
    out = customers.group_counts(groups).set_index("group")
    assert out.customers.tolist() == [3, 1] and out.share.tolist() == [0.75, 0.25]
    types = pd.DataFrame({"source_system": ["crm", "crm", "crm", "shop"],  # customers.type_counts' rows
                          "customer_type4": ["current", "lapsed", "potential", "current"],
                          "customer_records": [1, 1, 1, 1]})
    summary = customers.type_summary(types, customers.CUSTOMER_TYPES).set_index("customer_type")
    assert summary.loc["current", "customer_records"] == 2 and summary.loc["current", "share"] == 0.5
    assert summary.loc["distributor", "customer_records"] == 0
    cross = customers.types_by_source(types, customers.CUSTOMER_TYPES)
    assert cross.loc["crm"].tolist() == [1, 1, 1, 0]  # current, potential, lapsed, distributor
    assert cross.loc["crm", "lapsed"] == 1 and cross.loc["shop", "current"] == 1
    text = collection_story.reading_types(cross)
    assert "**CRM**: 33% current, 33% potential, 33% lapsed" in text


def test_accounted_names_the_batch_that_lost_records():
    history = pd.DataFrame({"batch_id": [1, 2], "source": ["orders", "customers"], "rows_read": [10, 5],
                            "rows_loaded": [8, 3], "rows_unchanged": [None, 1], "rows_rejected": [2, 0]})
    with pytest.raises(AssertionError, match=r"batch 2 \(customers\) read 5 but loaded 3 \+ unchanged 1 \+ rejected 0"):
        ingest.accounted(history)
    history.loc[1, "rows_rejected"] = 1
    out = ingest.accounted(history)
    assert out.accounted.all() and out.rows_unchanged.tolist() == [0, 1]
    assert "**2** loads, **15** records read, **11** loaded, **1** unchanged" in collection_story.history(out)


def test_check_choices_names_the_parameter():
    campaigns.check_choices(holdout=("latest", campaigns.HOLDOUTS))
    with pytest.raises(ValueError, match=r"^next_channel must be one of .*got 'fax'$"):
        campaigns.check_choices(next_channel=("fax", campaigns.CHANNEL_CONSENT))


def test_next_campaign_figures_given_and_pooled():
    measured = pd.DataFrame({"channel": ["sms", "sms", "email"], "control_responders": [3, 1, 9],
                             "control": [100, 100, 50]})
    given = campaigns.next_campaign_figures(None, "fax", measured, 12.0, 0.5, 0.02)  # nothing needed from the past
    assert given == {"margin_per_response": 12.0, "cost_per_contact": 0.5, "control_rate": 0.02}
    pooled = campaigns.next_campaign_figures(None, "sms", measured, 12.0, 0.5)
    assert pooled["control_rate"] == pytest.approx(4 / 200)
    with pytest.raises(ValueError, match="no past fax campaign"):
        campaigns.next_campaign_figures(None, "fax", measured, 12.0, 0.5)


def test_response_window():
    overview = pd.DataFrame({"channel": ["sms", "email", "sms"], "response_window_days": [14, 30, 21]})
    assert campaigns.response_window(overview, "sms") == 21  # the newest sms campaign's
    assert campaigns.response_window(overview, "sms", 7) == 7
    assert campaigns.response_window(overview, "outbound_call") == 30


def test_sentences_read_their_figures():
    risky = pd.DataFrame({"profit": [100.0, 50.0]})
    risky.attrs = {"value_cut": 40.0, "risk_cut": 0.36, "base_rate": 0.3}
    text = customer_story.at_risk(risky, pd.DataFrame({"profit": [100.0, 50.0, 150.0]}), "profit")
    assert text.startswith("**2** valuable customers") and "150 of profit so far (50.0% of all)" in text
    assert customer_story.reading_pareto({"top20_share": 0.6, "peak_share": 1.0, "peak_customer_share": 1.0},
                                         "revenue").endswith("stays there.")
    qini = pd.DataFrame({"ranking": ["by uplift", "by response score"], "qini": [0.12, 0.05]})
    assert "ranking by uplift found more" in campaign_story.reading_uplift(qini, None, 0.2)
    assert "held 20% of the selected" in campaign_story.reading_uplift(qini, None, 0.2)
