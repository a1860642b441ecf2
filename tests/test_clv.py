"""Tests for dbmarketing.clv: the BG/NBD and Gamma-Gamma models, CLV and the holdout check.

The published figures come from the CDNOW 1/10 sample bundled with the package:
Fader, Hardie & Lee (2005), "Counting your customers the easy way" (BG/NBD: r = 0.2426,
alpha = 4.4136, a = 0.7929, b = 2.4259, LL = -9582.4) and Fader & Hardie (2013), "The
Gamma-Gamma model of monetary value" (946 repeat customers, p = 6.25, q = 3.74,
gamma = 15.44).
"""

from __future__ import annotations

import math
from importlib.resources import files

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from scipy.special import hyp2f1

from dbmarketing import clv
from dbmarketing.clv.bgnbd import _BGData
from dbmarketing.clv.gamma_gamma import _GGData

# Published BG/NBD estimates for the CDNOW sample, as Hardie's Excel note gives them.
PUBLISHED_BG = dict(r=0.24259395230803, alpha=4.41359091416604, a=0.792919955839573, b=2.42589404751842)
PUBLISHED_LL = -9582.4
PUBLISHED_GG = dict(p=6.25, q=3.74, gamma=15.44)


# --------------------------------------------------------------------------------------
# fixtures: the CDNOW sample and a BG/NBD simulator
# --------------------------------------------------------------------------------------


def read_cdnow(name: str = "CDNOW_sample.txt.gz") -> pd.DataFrame:
    path = files("dbmarketing") / "data" / name
    log = pd.read_csv(
        path, sep=r"\s+", header=None, names=["customer_id", "date", "cds", "value"],
        dtype={"customer_id": str, "date": str}, compression="gzip",
    )
    log["date"] = pd.to_datetime(log["date"], format="%Y%m%d")
    return log


@pytest.fixture(scope="module")
def cdnow() -> pd.DataFrame:
    """Calibration 1997-01-01..1997-09-30, holdout 1997-10-01..1998-06-30, in weeks."""
    return clv.summary_from_events(
        read_cdnow(), "customer_id", "date", "value",
        observation_end="1998-06-30", calibration_end="1997-09-30", freq="W",
    )


@pytest.fixture(scope="module")
def cdnow_bg(cdnow) -> clv.BetaGeo:
    return clv.BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])


def simulate_bgnbd(n, r, alpha, a, b, T, rng, holdout=0.0):
    """Simulate the BG/NBD story for ``n`` customers observed for ``T`` after their first
    purchase (and, optionally, ``holdout`` more).

    Returns frequency, recency, T and the purchases in the holdout. Uses: given N purchases
    of a Poisson process in (0, T], the k-th purchase time is T times the k-th order
    statistic of N uniforms, which is Beta(k, N - k + 1).
    """
    T = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = np.clip(rng.beta(a, b, n), 1e-12, 1.0)
    drop_at = rng.geometric(p)  # the repeat purchase after which the customer leaves
    n_possible = rng.poisson(lam * T)
    x = np.minimum(drop_at, n_possible)
    tx = np.where(x > 0, T * rng.beta(np.maximum(x, 1), n_possible - x + 1), 0.0)
    alive = drop_at > n_possible
    later = np.where(alive, np.minimum(drop_at - n_possible, rng.poisson(lam * holdout)), 0)
    return x.astype(float), tx, T, later.astype(float)


def bg_likelihood_by_hand(x, tx, T, r, alpha, a, b):
    """The BG/NBD likelihood of Fader, Hardie & Lee (2005), written out with the math module."""
    B = lambda u, v: math.gamma(u) * math.gamma(v) / math.gamma(u + v)  # noqa: E731
    nbd = math.gamma(r + x) * alpha**r / math.gamma(r)
    value = B(a, b + x) / B(a, b) * nbd / (alpha + T) ** (r + x)
    if x > 0:
        value += B(a + 1, b + x - 1) / B(a, b) * nbd / (alpha + tx) ** (r + x)
    return value


def conditional_expectation_by_hand(t, x, tx, T, r, alpha, a, b):
    """Eq. (10) of the paper as printed (no transformation of the hypergeometric term)."""
    z = t / (alpha + T + t)
    top = (a + b + x - 1) / (a - 1) * (
        1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
    )
    bottom = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return top / bottom


# --------------------------------------------------------------------------------------
# the customer summary
# --------------------------------------------------------------------------------------


def test_summary_conventions_match_the_published_cdnow_summary(cdnow):
    # 2,357 customers; 946 of them repeat in the calibration period (Fader & Hardie 2013)
    assert len(cdnow) == 2357
    assert int((cdnow["frequency"] > 0).sum()) == 946
    assert int(cdnow["frequency"].sum()) == 2457
    # the first customers of the published summary (customer ids of the master file)
    published = {  # id: (x, t_x, T)
        "00004": (2, 30.43, 38.86), "00021": (1, 1.71, 38.86), "00050": (0, 0.0, 38.86),
        "00071": (0, 0.0, 38.86), "00086": (0, 0.0, 38.86), "00111": (7, 29.43, 38.86),
    }
    for cid, (x, tx, T) in published.items():
        row = cdnow.loc[cid]
        assert row["frequency"] == x
        assert round(row["recency"], 2) == tx
        assert round(row["T"], 2) == T
    # T of a 1997-01-01 first purchase: (1997-09-30 - 1997-01-01) / 7 = 272 / 7 weeks
    assert cdnow.loc["00004", "T"] == pytest.approx(272 / 7, abs=1e-12)
    assert cdnow.loc["00004", "recency"] == pytest.approx(213 / 7, abs=1e-12)
    assert (cdnow["duration_holdout"] == 39.0).all()
    # mean value of repeat purchases: customer 00004 bought 29.73 and 14.96 after the first
    assert cdnow.loc["00004", "monetary_value"] == pytest.approx((29.73 + 14.96) / 2)


def test_summary_from_events_by_hand():
    log = pd.DataFrame(
        {
            "cust": ["A", "A", "A", "A", "A", "A", "B", "C"],
            "when": [
                "2020-01-01", "2020-01-01 18:30", "2020-01-08", "2020-01-22",  # calibration
                "2020-02-05", "2020-03-10",  # holdout; after the observation end
                "2020-02-10",  # B first buys in the holdout: not in the calibration cohort
                "2020-01-15 13:45",
            ],
            "amount": [10.0, 5.0, 20.0, 30.0, 7.0, 99.0, 50.0, 12.0],
        }
    )
    s = clv.summary_from_events(log, "cust", "when", "amount", "2020-02-29", freq="W", calibration_end="2020-01-31")
    assert list(s.index) == ["A", "C"]
    a = s.loc["A"]
    assert a["frequency"] == 2  # two purchases on 2020-01-01 are one
    assert a["recency"] == pytest.approx(21 / 7)
    assert a["T"] == pytest.approx(30 / 7)
    assert a["monetary_value"] == pytest.approx(25.0)  # first day (10 + 5) left out
    assert a["frequency_holdout"] == 1 and a["monetary_value_holdout"] == pytest.approx(7.0)
    assert a["duration_holdout"] == pytest.approx(29 / 7)
    c = s.loc["C"]
    assert (c["frequency"], c["recency"], c["monetary_value"]) == (0, 0.0, 0.0)
    assert c["T"] == pytest.approx(16 / 7)

    days = clv.summary_from_events(log, "cust", "when", None, "2020-01-31", freq="D")
    assert list(days.columns) == ["frequency", "recency", "T"]
    assert days.loc["A", "T"] == 30 and days.loc["A", "recency"] == 21
    with pytest.raises(ValueError, match="freq"):
        clv.summary_from_events(log, "cust", "when", None, "2020-01-31", freq="fortnight")
    with pytest.raises(ValueError, match="no column"):
        clv.summary_from_events(log, "customer", "when", None, "2020-01-31")


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


def test_bgnbd_reproduces_published_cdnow_estimates(cdnow_bg):
    for name, value in PUBLISHED_BG.items():
        assert cdnow_bg.params_[name] == pytest.approx(value, rel=0.01), name
        assert cdnow_bg.params_[name] == pytest.approx(value, rel=1e-4), name  # in fact much closer
    assert cdnow_bg.loglik_ == pytest.approx(PUBLISHED_LL, abs=0.05)
    assert cdnow_bg.n_customers_ == 2357
    assert cdnow_bg.converged_
    assert (cdnow_bg.r_, cdnow_bg.alpha_, cdnow_bg.a_, cdnow_bg.b_) == tuple(cdnow_bg.params_.values())


def test_individual_log_likelihood_by_hand():
    bg = clv.BetaGeo.from_params(**PUBLISHED_BG)
    cases = [(2, 30.43, 38.86), (0, 0.0, 38.86), (7, 29.43, 38.86), (1, 1.71, 32.0), (0, 0.0, 0.0)]
    for x, tx, T in cases:
        expected = math.log(bg_likelihood_by_hand(x, tx, T, **PUBLISHED_BG))
        assert bg.log_likelihood(x, tx, T) == pytest.approx(expected, rel=1e-12, abs=1e-12)
    # a very heavy buyer: the product form underflows, the log form does not
    assert np.isfinite(bg.log_likelihood(400, 50.0, 52.0))


def test_gradient_matches_finite_differences(cdnow):
    data = _BGData.compress(
        cdnow["frequency"].to_numpy(float), cdnow["recency"].to_numpy(), cdnow["T"].to_numpy(),
        np.ones(len(cdnow)),
    )
    for penalizer in (0.0, 0.05):
        for point in (np.log([0.5, 3.0, 1.5, 2.0]), np.log(list(PUBLISHED_BG.values()))):
            _, grad = data.negloglik(np.exp(point), penalizer)
            numeric = approx_fprime(point, lambda z: data.negloglik(np.exp(z), penalizer, grad=False), 1e-7)
            np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)


def test_weights_give_the_same_fit_as_expanded_rows(cdnow):
    counts = cdnow.groupby(["frequency", "recency", "T"]).size().reset_index(name="n")
    assert len(counts) < len(cdnow)
    weighted = clv.BetaGeo().fit(counts["frequency"], counts["recency"], counts["T"], weights=counts["n"])
    expanded = clv.BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    for name in PUBLISHED_BG:
        assert weighted.params_[name] == pytest.approx(expanded.params_[name], rel=1e-6)
    assert weighted.loglik_ == pytest.approx(expanded.loglik_, abs=1e-6)
    assert weighted.n_customers_ == expanded.n_customers_ == 2357
    assert weighted.n_distinct_ == expanded.n_distinct_ == len(counts)

    # and on arbitrary integer weights, against np.repeat
    rng = np.random.default_rng(3)
    x, tx, T, _ = simulate_bgnbd(400, 0.5, 5.0, 0.8, 3.0, rng.uniform(20, 40, 400), rng)
    w = rng.integers(0, 4, 400)
    a = clv.BetaGeo().fit(x, tx, T, weights=w)
    b = clv.BetaGeo().fit(np.repeat(x, w), np.repeat(tx, w), np.repeat(T, w))
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-5)
    assert a.loglik_ == pytest.approx(b.loglik_, abs=1e-6)


def test_bgnbd_recovers_simulated_parameters():
    rng = np.random.default_rng(20050101)
    truth = dict(r=0.5, alpha=6.0, a=0.7, b=2.5)
    # first purchases spread over 13 weeks, observed to week 52
    T = 52 - rng.uniform(0, 13, 20_000)
    x, tx, T, _ = simulate_bgnbd(20_000, **truth, T=T, rng=rng)
    bg = clv.BetaGeo().fit(x, tx, T)
    assert bg.converged_
    assert bg.r_ == pytest.approx(truth["r"], rel=0.08)
    assert bg.alpha_ == pytest.approx(truth["alpha"], rel=0.10)
    assert bg.a_ == pytest.approx(truth["a"], rel=0.20)
    assert bg.b_ == pytest.approx(truth["b"], rel=0.25)
    # the fit is at least as likely as the truth
    truth_ll = clv.BetaGeo.from_params(**truth).log_likelihood(x, tx, T).sum()
    assert bg.loglik_ >= truth_ll


def test_conditional_expectation_matches_the_paper_formula():
    bg = clv.BetaGeo.from_params(**PUBLISHED_BG)
    # Hardie's note "Implementing the BG/NBD model in Excel": customer 1 -> 1.226
    assert bg.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)
    for x, tx, T in [(0, 0, 38.86), (1, 1.71, 38.86), (7, 29.43, 38.86), (20, 30.0, 35.0), (3, 2.0, 10.0)]:
        for t in (1.0, 39.0, 104.0):
            expected = conditional_expectation_by_hand(t, x, tx, T, **PUBLISHED_BG)
            assert bg.expected_purchases(t, x, tx, T) == pytest.approx(expected, rel=1e-9)
    # a new customer (x = 0, T = 0) is expected to buy E[X(t)] (eq. 9)
    t = np.array([0.5, 10.0, 39.0, 78.0, 520.0])
    np.testing.assert_allclose(bg.expected_purchases_new(t), [bg.expected_purchases(u, 0, 0, 0) for u in t], rtol=1e-10)
    a, b, r, alpha = PUBLISHED_BG["a"], PUBLISHED_BG["b"], PUBLISHED_BG["r"], PUBLISHED_BG["alpha"]
    eq9 = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + 39)) ** r * hyp2f1(r, b, a + b - 1, 39 / (alpha + 39)))
    assert bg.expected_purchases_new(39.0) == pytest.approx(eq9, rel=1e-10)
    assert bg.expected_purchases(0.0, 3, 20.0, 30.0) == 0.0
    # a = 1 is a removable singularity of both expectations
    at_one = clv.BetaGeo.from_params(r=0.3, alpha=4.0, a=1.0, b=2.0)
    near_one = clv.BetaGeo.from_params(r=0.3, alpha=4.0, a=1.0 + 1e-4, b=2.0)
    assert at_one.expected_purchases(39, 2, 20.0, 38.0) == pytest.approx(near_one.expected_purchases(39, 2, 20.0, 38.0), rel=1e-3)
    assert at_one.expected_purchases_new(39) == pytest.approx(near_one.expected_purchases_new(39), rel=1e-3)
    # heavy buyers stay finite (the printed form overflows in the hypergeometric term)
    assert np.isfinite(bg.expected_purchases(39, 500, 38.0, 38.86))


def test_expectations_when_the_fit_runs_a_and_b_off():
    """A fit at the edge (300 distributors gave a = 5.5e5, b = 1.3e7): the beta is a point mass
    at p = a / (a + b) and 2F1 overflows; the expectations must stay finite and right."""
    import warnings

    r, alpha, p = 2.86, 15.18, 0.04
    edge = clv.BetaGeo.from_params(r=r, alpha=alpha, a=p * 1e7, b=(1 - p) * 1e7)
    x, tx, T, t = np.array([0, 10, 60]), np.array([0.0, 120.0, 150.0]), np.array([20.0, 150.0, 156.0]), 52.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = edge.expected_purchases(t, x, tx, T)
        new = edge.expected_purchases_new(np.array([10.0, 52.0]))
        value = clv.customer_lifetime_value(edge, clv.GammaGamma.from_params(p=6.0, q=4.0, gamma=15.0), x, tx, T,
                                            np.where(x > 0, 30.0, 0.0), periods=12, margin=0.3, discount_rate=0.01,
                                            period_length=4.35)
    assert np.isfinite(got).all() and np.isfinite(new).all() and np.isfinite(value).all()
    # by simulation: rate lambda ~ Gamma(r + x, alpha + T) a posteriori, Poisson purchases in t,
    # each followed by dropout with probability p; the purchases made before dropping out
    rng = np.random.default_rng(3)
    alive = edge.probability_alive(x, tx, T)
    for i in range(3):
        lam = rng.gamma(r + x[i], 1 / (alpha + T[i]), 400_000)
        n = rng.poisson(lam * t)
        made = np.minimum(n, rng.geometric(p, n.size))
        assert got[i] == pytest.approx(alive[i] * made.mean(), rel=0.01)
    # and it is the limit of the ordinary formula: a and b 1,000 times smaller differ little
    near = clv.BetaGeo.from_params(r=r, alpha=alpha, a=p * 1e4, b=(1 - p) * 1e4)
    np.testing.assert_allclose(got, near.expected_purchases(t, x, tx, T), rtol=0.005)
    np.testing.assert_allclose(new, near.expected_purchases_new(np.array([10.0, 52.0])), rtol=0.005)


def test_expectations_agree_with_simulation():
    rng = np.random.default_rng(7)
    truth = dict(r=0.4, alpha=5.0, a=0.9, b=2.0)
    n = 100_000
    T = 39 - rng.uniform(0, 12, n)
    x, tx, T, later = simulate_bgnbd(n, **truth, T=T, rng=rng, holdout=39.0)
    bg = clv.BetaGeo.from_params(**truth)
    # E[X(T)] summed over the cohort = calibration repeat purchases
    assert bg.expected_purchases_new(T).sum() == pytest.approx(x.sum(), rel=0.03)
    # E[Y(39) | history] summed = holdout purchases, overall and for heavy buyers
    predicted = bg.expected_purchases(39.0, x, tx, T)
    assert predicted.sum() == pytest.approx(later.sum(), rel=0.03)
    heavy = x >= 5
    assert predicted[heavy].sum() == pytest.approx(later[heavy].sum(), rel=0.05)
    # P(alive) is the probability of still buying: compare with those who bought later on
    p_alive = bg.probability_alive(x, tx, T)
    bought = later > 0
    assert p_alive[bought].min() > 0
    assert p_alive[heavy & bought].mean() > p_alive[heavy & ~bought].mean()


def test_probability_alive():
    bg = clv.BetaGeo.from_params(**PUBLISHED_BG)
    assert bg.probability_alive(0, 0, 38.86) == 1.0
    r, alpha, a, b = PUBLISHED_BG.values()
    x, tx, T = 2, 30.43, 38.86
    expected = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    assert bg.probability_alive(x, tx, T) == pytest.approx(expected, rel=1e-12)
    # longer silence, lower P(alive); a very long silence after heavy buying gives 0, not nan
    p = bg.probability_alive([5, 5, 5], [30.0, 20.0, 5.0], [38.86] * 3)
    assert p[0] > p[1] > p[2]
    assert bg.probability_alive(2000, 1.0, 500.0) == 0.0


def test_series_in_series_out(cdnow, cdnow_bg):
    e = cdnow_bg.expected_purchases(39, cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert isinstance(e, pd.Series) and e.index.equals(cdnow.index) and e.name == "expected_purchases"
    assert isinstance(cdnow_bg.predict(39, 1, 2.0, 30.0), float)
    arr = cdnow_bg.probability_alive(np.array([0, 1]), np.array([0.0, 3.0]), np.array([10.0, 10.0]))
    assert isinstance(arr, np.ndarray) and arr.shape == (2,)


def test_bad_input_is_named():
    bg = clv.BetaGeo()
    with pytest.raises(clv.NotFittedError):
        bg.expected_purchases(10, 1, 1.0, 5.0)
    with pytest.raises(ValueError, match="recency: greater than T"):
        bg.fit([1, 2], [3.0, 9.0], [5.0, 8.0])
    with pytest.raises(ValueError, match="frequency: negative"):
        bg.fit([1, -2], [3.0, 1.0], [5.0, 8.0])
    with pytest.raises(ValueError, match="frequency: not a whole number"):
        bg.fit([1.5, 2], [3.0, 1.0], [5.0, 8.0])
    with pytest.raises(ValueError, match="recency: must be 0.*index 'b'"):
        bg.fit(pd.Series([1, 0], index=["a", "b"]), pd.Series([3.0, 1.0], index=["a", "b"]), [5.0, 8.0])
    with pytest.raises(ValueError, match="T: missing"):
        bg.fit([1, 0], [3.0, 0.0], [5.0, np.nan])
    with pytest.raises(ValueError, match="weights"):
        bg.fit([1, 0], [3.0, 0.0], [5.0, 8.0], weights=[1, -1])
    with pytest.raises(ValueError, match="no customers"):
        bg.fit([1, 0], [3.0, 0.0], [5.0, 8.0], weights=[0, 0])


def test_penalizer_shrinks_parameters(cdnow):
    plain = clv.BetaGeo().fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    shrunk = clv.BetaGeo(penalizer=0.1).fit(cdnow["frequency"], cdnow["recency"], cdnow["T"])
    assert sum(v**2 for v in shrunk.params_.values()) < sum(v**2 for v in plain.params_.values())
    assert shrunk.loglik_ < plain.loglik_
    assert "penalizer=0.1" in repr(clv.BetaGeo(penalizer=0.1)) and "alpha=" in repr(plain)


# --------------------------------------------------------------------------------------
# holdout check
# --------------------------------------------------------------------------------------


def test_holdout_comparison_on_cdnow(cdnow, cdnow_bg):
    table = clv.holdout_comparison(cdnow_bg, cdnow, cdnow["frequency_holdout"], holdout_length=39)
    assert list(table.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table.index.name == "frequency"
    # group sizes and actual means as in the published conditional-expectation comparison
    assert list(table["customers"]) == [1411, 439, 214, 100, 62, 38, 29, 64]
    np.testing.assert_allclose(
        table["actual"], [0.2367, 0.6970, 1.3925, 1.5600, 2.5323, 2.9474, 3.8621, 6.3594], atol=5e-5
    )
    # 1,882 actual repeat purchases in the 39-week holdout; the BG/NBD conditional
    # expectations add up to 1,653: the model under-forecasts CDNOW's holdout by 12%
    # (the first-quarter-1997 cohort bought more in late 1997 than a stationary model
    # expects). The figure is the model's, checked against the paper's eq. (10) by hand.
    assert table.attrs["actual_total"] == 1882
    by_hand = sum(
        conditional_expectation_by_hand(39.0, x, tx, T, **cdnow_bg.params_)
        for x, tx, T in cdnow[["frequency", "recency", "T"]].itertuples(index=False)
    )
    assert table.attrs["predicted_total"] == pytest.approx(by_hand, rel=1e-9)
    assert table.attrs["predicted_total"] == pytest.approx(1653.4, abs=0.5)
    assert table.attrs["total_error"] == pytest.approx(1653.4 / 1882 - 1, abs=1e-3)
    assert table["predicted_total"].sum() == pytest.approx(table.attrs["predicted_total"])
    mae = (table["customers"] * (table["actual"] - table["predicted"]).abs()).sum() / 2357
    assert table.attrs["mae"] == pytest.approx(mae) and 0.05 < mae < 0.15
    assert table.attrs["customers"] == 2357
    # the heaviest group is forecast within 5%
    assert table.loc["7+", "predicted"] == pytest.approx(table.loc["7+", "actual"], rel=0.05)
    # the unconditional forecast of the cumulative chart (eq. 9 summed over the cohort)
    # tells the same story for the holdout weeks
    T = cdnow["T"].to_numpy()
    unconditional = (cdnow_bg.expected_purchases_new(T + 39) - cdnow_bg.expected_purchases_new(T)).sum()
    assert unconditional == pytest.approx(1667, abs=1.0)
    # and over the calibration period it is close to the 2,457 observed repeat purchases
    assert cdnow_bg.expected_purchases_new(T).sum() == pytest.approx(2457, rel=0.02)


def test_holdout_comparison_aligns_a_series_by_index(cdnow, cdnow_bg):
    shuffled = cdnow["frequency_holdout"].sample(frac=1.0, random_state=1)
    a = clv.holdout_comparison(cdnow_bg, cdnow, shuffled, 39)
    b = clv.holdout_comparison(cdnow_bg, cdnow, cdnow["frequency_holdout"].to_numpy(), 39, max_frequency=3)
    assert a.attrs["actual_total"] == 1882 and list(a["customers"])[0] == 1411
    assert list(b.index) == ["0", "1", "2", "3+"] and b["customers"].sum() == 2357
    small = clv.holdout_comparison(cdnow_bg, cdnow.iloc[:50], cdnow["frequency_holdout"].iloc[:50], 39, max_frequency=30)
    assert small["customers"].sum() == 50 and small.loc["29", "actual"] != small.loc["29", "actual"]  # NaN
    with pytest.raises(ValueError, match="missing column"):
        clv.holdout_comparison(cdnow_bg, cdnow[["frequency", "T"]], shuffled, 39)


# --------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------


def test_gamma_gamma_reproduces_published_cdnow_estimates(cdnow):
    repeat = cdnow[cdnow["frequency"] > 0]
    assert len(repeat) == 946
    # the note's m_x is the mean value of the repeat transactions in the calibration period
    assert repeat["monetary_value"].mean() == pytest.approx(35.08, abs=0.005)
    gg = clv.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    for name, value in PUBLISHED_GG.items():
        assert gg.params_[name] == pytest.approx(value, rel=0.02), name
        assert gg.params_[name] == pytest.approx(value, abs=0.006), name  # to the published 2 decimals
    assert gg.n_customers_ == 946 and gg.converged_
    # customers with no repeat purchase are left out of the fit
    all_customers = clv.GammaGamma().fit(cdnow["frequency"], cdnow["monetary_value"])
    assert all_customers.params_ == pytest.approx(gg.params_) and all_customers.n_customers_ == 946


def test_gamma_gamma_gradient_and_formulas(cdnow):
    repeat = cdnow[cdnow["frequency"] > 0]
    gg = clv.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    data = _GGData(repeat["frequency"].to_numpy(float), repeat["monetary_value"].to_numpy(), np.ones(len(repeat)))
    for penalizer in (0.0, 0.05):
        point = np.log([2.0, 3.0, 10.0])
        _, grad = data.negloglik(np.exp(point), penalizer)
        numeric = approx_fprime(point, lambda z: data.negloglik(np.exp(z), penalizer, grad=False), 1e-7)
        np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-7)
    # log-likelihood by hand: the density of m_x given x (Fader & Hardie 2013)
    p, q, g = gg.p_, gg.q_, gg.gamma_
    ll = 0.0
    for x, m in repeat[["frequency", "monetary_value"]].itertuples(index=False):
        ll += (
            math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(g)
            + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(g + m * x)
        )
    assert gg.loglik_ == pytest.approx(ll, rel=1e-10)
    # conditional expected spend: a weighted mean of the population mean and m_x
    mean = p * g / (q - 1)
    assert gg.population_mean_spend() == pytest.approx(mean)
    assert gg.conditional_expected_spend(0, np.nan) == pytest.approx(mean)
    x, m = 3, 50.0
    w = p * x / (p * x + q - 1)
    assert gg.conditional_expected_spend(x, m) == pytest.approx((1 - w) * mean + w * m)
    spend = gg.predict(repeat["frequency"], repeat["monetary_value"])
    assert isinstance(spend, pd.Series) and spend.index.equals(repeat.index)
    with pytest.raises(ValueError, match="monetary_value"):
        clv.GammaGamma().fit([1, 2], [10.0, 0.0])
    with pytest.raises(clv.NotFittedError):
        clv.GammaGamma().conditional_expected_spend(1, 10.0)


def test_gamma_gamma_recovers_simulated_parameters():
    rng = np.random.default_rng(2013)
    p, q, g = 6.0, 4.0, 15.0
    n = 20_000
    x = 1 + rng.poisson(3.0, n)
    nu = rng.gamma(q, 1.0 / g, n)  # rate of each customer's spend, gamma(q, rate g)
    m = rng.gamma(p * x, 1.0 / nu) / x  # mean of x gamma(p, rate nu) purchases
    gg = clv.GammaGamma().fit(x, m)
    assert gg.p_ == pytest.approx(p, rel=0.10)  # sampling sd of p is about 3.5% here
    assert gg.q_ == pytest.approx(q, rel=0.10)
    assert gg.gamma_ == pytest.approx(g, rel=0.15)
    assert gg.population_mean_spend() == pytest.approx(p * g / (q - 1), rel=0.03)
    # counts as weights give the fit of the repeated rows
    w = rng.integers(0, 4, 500)
    a = clv.GammaGamma().fit(x[:500], m[:500], weights=w)
    b = clv.GammaGamma().fit(np.repeat(x[:500], w), np.repeat(m[:500], w))
    np.testing.assert_allclose(list(a.params_.values()), list(b.params_.values()), rtol=1e-5)
    assert a.n_customers_ == b.n_customers_ == w.sum()


# --------------------------------------------------------------------------------------
# customer lifetime value
# --------------------------------------------------------------------------------------


def test_customer_lifetime_value(cdnow, cdnow_bg):
    repeat = cdnow[cdnow["frequency"] > 0]
    gg = clv.GammaGamma().fit(repeat["frequency"], repeat["monetary_value"])
    f, r, T, m = (cdnow[c] for c in ("frequency", "recency", "T", "monetary_value"))

    # no discounting: expected purchases over the whole horizon times expected spend
    value = clv.customer_lifetime_value(cdnow_bg, gg, f, r, T, m, periods=12, period_length=52 / 12)
    expected = cdnow_bg.expected_purchases(52, f, r, T) * gg.conditional_expected_spend(f, m)
    assert isinstance(value, pd.Series) and value.name == "clv" and value.index.equals(cdnow.index)
    np.testing.assert_allclose(value, expected, rtol=1e-10)

    # by hand for one customer: weekly periods, 30% margin, 0.2% a week
    x, tx, Tc, mx = 7, 29.43, 38.86, 40.0
    spend = gg.conditional_expected_spend(x, mx)
    by_hand, before = 0.0, 0.0
    for i in range(1, 27):
        now = cdnow_bg.expected_purchases(i, x, tx, Tc)
        by_hand += (now - before) * spend * 0.3 / 1.002**i
        before = now
    one = clv.customer_lifetime_value(cdnow_bg, gg, x, tx, Tc, mx, periods=26, margin=0.3, discount_rate=0.002)
    assert one == pytest.approx(by_hand, rel=1e-12)

    # discounting lowers value; customers with no repeat purchase get the population spend
    discounted = clv.customer_lifetime_value(cdnow_bg, gg, f, r, T, m, periods=12, period_length=52 / 12, discount_rate=0.01)
    assert (discounted < value).all()
    zero = clv.customer_lifetime_value(cdnow_bg, gg, 0, 0.0, 38.86, 0.0, periods=10)
    assert zero == pytest.approx(cdnow_bg.expected_purchases(10, 0, 0.0, 38.86) * gg.population_mean_spend())
    with pytest.raises(ValueError, match="periods"):
        clv.customer_lifetime_value(cdnow_bg, gg, f, r, T, m, periods=0)
