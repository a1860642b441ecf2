"""Customer lifetime value: how many more purchases, of what value, from each customer.

Two probability models of customer behaviour in a *non-contractual* setting (the customer
can leave without telling us), fitted to each customer's purchase summary, and the value
calculation that combines them:

- :class:`BetaGeo` -- the BG/NBD model of *how often* a customer buys and *whether* the
  customer is still "alive" (Fader, Hardie & Lee 2005);
- :class:`GammaGamma` -- the Gamma-Gamma model of *how much* a customer spends per purchase
  (Fader, Hardie & Lee 2005; Fader & Hardie 2013);
- :func:`customer_lifetime_value` -- expected discounted margin over a horizon;
- :func:`holdout_comparison` -- the calibration/holdout check of the purchase model;
- :func:`summary_from_events` -- a small pandas reference implementation of the
  customer summary (frequency, recency, T, monetary value) for tests and tiny data.

The verbs follow scikit-learn (parameters in ``__init__``, ``fit`` returns the model, learned
state ends in ``_``) and the names follow the lifetimes package (``frequency``, ``recency``,
``T``, ``monetary_value``).

Units. ``frequency`` is the number of *repeat* purchases (the first purchase is not counted;
several purchases on the same day count as one). ``recency`` is the time from the first to
the last purchase and ``T`` the time from the first purchase to the end of the observation
period, both in one time unit of your choice (weeks in the CDNOW examples). Every time
argument of a fitted model (``t``, ``periods * period_length``) is in that same unit, and
the fitted rate parameter ``alpha_`` is too.

A million customers. The BG/NBD likelihood depends on a customer only through
``(frequency, recency, T)``; with dates measured in whole days there are far fewer distinct
triples than customers, so :meth:`BetaGeo.fit` compresses the rows to distinct triples
with counts (or takes counts from ``weights``) before it optimises.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

__all__ = [
    "BetaGeo",
    "GammaGamma",
    "NotFittedError",
    "customer_lifetime_value",
    "holdout_comparison",
    "summary_from_events",
]

# Bounds on the log of every parameter during the fit: exp(+-20) is 2e-9 .. 5e8, far wider
# than any sensible value, and keeps exp() of a wild line-search step finite.
_LOG_BOUND = 20.0


class NotFittedError(ValueError, AttributeError):
    """A model was used before ``fit`` (or ``from_params``) gave it parameters."""


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def _array(name: str, values: Any) -> np.ndarray:
    """``values`` as a 1-d float64 array; a clear error names the argument at fault."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected a 1-d array of customers, got shape {arr.shape}")
    return arr


def _first_bad(mask: np.ndarray, index: pd.Index | None) -> str:
    """Describe the first row where ``mask`` is true: its position and index label."""
    pos = int(np.flatnonzero(mask)[0])
    label = f" (index {index[pos]!r})" if index is not None else ""
    return f"row {pos}{label}; {int(mask.sum())} row(s) in all"


def _index_of(*values: Any) -> pd.Index | None:
    """The index of the first pandas argument, to label results and error messages."""
    for v in values:
        if isinstance(v, (pd.Series, pd.DataFrame)):
            return v.index
    return None


def _output(values: np.ndarray, index: pd.Index | None, name: str, scalar: bool):
    """Return a Series on the caller's index, a float for scalar input, else the array."""
    if scalar:
        return float(values[0])
    if index is not None and len(index) == len(values):
        return pd.Series(values, index=index, name=name)
    return values


def _is_scalar(*values: Any) -> bool:
    return all(np.ndim(v) == 0 for v in values)


def _check_rfm(frequency, recency, T) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate a customer summary; return it as three float arrays of one length."""
    index = _index_of(frequency, recency, T)
    x = _array("frequency", frequency)
    tx = _array("recency", recency)
    T_ = _array("T", T)
    n = len(x)
    if not (len(tx) == n and len(T_) == n):
        # a scalar broadcasts against arrays (e.g. one T for a whole cohort)
        try:
            x, tx, T_ = np.broadcast_arrays(x, tx, T_)
        except ValueError:
            raise ValueError(
                f"frequency, recency and T must have one length, got {len(x)}, {len(tx)}, {len(T_)}"
            ) from None
        x, tx, T_ = (np.array(v, dtype=np.float64) for v in (x, tx, T_))
    for name, v in (("frequency", x), ("recency", tx), ("T", T_)):
        bad = ~np.isfinite(v)
        if bad.any():
            raise ValueError(f"{name}: missing or infinite value at {_first_bad(bad, index)}")
        bad = v < 0
        if bad.any():
            raise ValueError(f"{name}: negative value at {_first_bad(bad, index)}")
    bad = x != np.round(x)
    if bad.any():
        raise ValueError(f"frequency: not a whole number of repeat purchases at {_first_bad(bad, index)}")
    tol = 1e-9 * np.maximum(1.0, T_)
    bad = tx > T_ + tol
    if bad.any():
        raise ValueError(f"recency: greater than T at {_first_bad(bad, index)}")
    bad = (x == 0) & (tx > tol)
    if bad.any():
        raise ValueError(
            f"recency: must be 0 for a customer with frequency 0 at {_first_bad(bad, index)}"
        )
    return x, np.minimum(tx, T_), T_


def _check_weights(weights, n: int) -> np.ndarray:
    if weights is None:
        return np.ones(n)
    w = _array("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights: expected {n} values (one per row), got {len(w)}")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise ValueError(f"weights: negative or missing count at {_first_bad(bad, _index_of(weights))}")
    return w


def _converged(res) -> bool:
    """Success, or a line search that failed only because the optimum is already reached."""
    return bool(res.success or np.max(np.abs(res.jac)) <= 1e-6)


def _fit_log_params(fun, x0: np.ndarray) -> tuple[np.ndarray, Any]:
    """Minimise ``fun(log_params) -> (value, gradient)``.

    L-BFGS-B with the analytic gradient; should it stop short (a failed line search far from
    a stationary point), Nelder-Mead restarts from where it stopped and L-BFGS-B polishes.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    opts = {"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10}
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    if not _converged(res):
        nm = minimize(
            lambda z: fun(z)[0], res.x, method="Nelder-Mead", bounds=bounds,
            options={"maxiter": 20000, "xatol": 1e-10, "fatol": 1e-14},
        )
        res = minimize(fun, nm.x, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    return res.x, res


# --------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------


class BetaGeo:
    """The BG/NBD model of repeat purchasing (beta-geometric / negative binomial).

    Assumptions (Fader, Hardie & Lee 2005):

    1. While active, a customer's number of purchases follows a Poisson process with rate
       lambda: the times between purchases are exponential with mean 1/lambda.
    2. Customers differ in lambda, which follows a gamma distribution across customers with
       shape ``r`` and rate ``alpha``.
    3. After any purchase (not counting the first one), a customer becomes inactive for good
       with probability p; so the number of purchases at which a customer drops out is
       (shifted) geometric.
    4. Customers differ in p, which follows a beta distribution with parameters ``a`` and
       ``b``.
    5. lambda and p vary independently across customers.

    Consequences a caller must know: a customer who has made no repeat purchase is
    considered alive (``probability_alive`` is 1); purchases on the same day are one
    purchase; the model is fitted to repeat purchases only. When the fit runs ``a`` and
    ``b`` off to very large values (few customers, little difference in dropout between
    them), the expectations take their limit: one dropout probability a / (a + b) for all.

    Reference: Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your
    Customers' the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science*
    24(2), 275-284: the individual likelihood, E[X(t)] (eq. 9) and the conditional
    expectation E[Y(t) | x, t_x, T] (eq. 10). P(alive): Fader, Hardie & Lee, "Computing
    P(alive) Using the BG/NBD Model", http://brucehardie.com/notes/021/ .

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters (natural scale) added to the mean negative
        log-likelihood, as in lifetimes. Use a small value (0.001 .. 0.1) to steady fits
        on small or odd data; 0 gives the maximum-likelihood estimates of the paper.

    Attributes
    ----------
    r_, alpha_, a_, b_ : float
        Fitted parameters (``alpha_`` in the time unit of ``recency`` and ``T``).
    params_ : dict
        The same as ``{"r": r_, "alpha": alpha_, "a": a_, "b": b_}``.
    loglik_ : float
        Total log-likelihood of the fitted data at the fitted parameters (weighted; the
        penalty is not included).
    n_customers_ : int
        Number of customers fitted (the sum of the weights).
    n_distinct_ : int
        Number of distinct (frequency, recency, T) rows the likelihood was evaluated on.
    converged_ : bool
        Whether the optimiser reached a stationary point.
    optimizer_result_ : scipy.optimize.OptimizeResult
        The optimiser's report (in the log-parameters, on the mean log-likelihood).

    Examples
    --------
    >>> bg = BetaGeo().fit(summary["frequency"], summary["recency"], summary["T"])
    >>> bg.expected_purchases(39, summary["frequency"], summary["recency"], summary["T"])
    """

    param_names = ("r", "alpha", "a", "b")

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"BetaGeo({shown})"
        return f"BetaGeo(penalizer={self.penalizer})"

    # ---- construction ----------------------------------------------------------------

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> "BetaGeo":
        """A model with given parameters (e.g. published ones), ready to predict.

        ``loglik_`` and ``n_customers_`` are not set: nothing was fitted.
        """
        model = cls()
        model._set_params(np.array([r, alpha, a, b], dtype=np.float64))
        return model

    def _set_params(self, params: np.ndarray) -> None:
        if not np.all(np.isfinite(params)) or np.any(params <= 0):
            raise ValueError(f"BG/NBD parameters must be positive and finite, got {params}")
        self.r_, self.alpha_, self.a_, self.b_ = (float(v) for v in params)
        self.params_ = dict(zip(self.param_names, (self.r_, self.alpha_, self.a_, self.b_)))

    def _params(self) -> tuple[float, float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("this BetaGeo model is not fitted yet: call fit() first")
        return self.r_, self.alpha_, self.a_, self.b_

    # ---- fitting ---------------------------------------------------------------------

    def fit(self, frequency, recency, T, weights=None) -> "BetaGeo":
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        frequency : array-like of int
            Repeat purchases of each customer in the calibration period (>= 0).
        recency : array-like of float
            Time of the last purchase, measured from the first purchase (0 when
            frequency is 0). Same unit as ``T``.
        T : array-like of float
            Time from the first purchase to the end of the calibration period.
        weights : array-like of float, optional
            Number of customers each row stands for (rows of identical customers compressed
            to one with a count). Default: one customer per row.

        Returns
        -------
        BetaGeo
            ``self``, with the fitted attributes set.
        """
        x, tx, T_ = _check_rfm(frequency, recency, T)
        w = _check_weights(weights, len(x))
        data = _BGData.compress(x, tx, T_, w)
        if data.n_customers <= 0:
            raise ValueError("BetaGeo.fit: no customers to fit (empty input or all weights 0)")
        penalizer = float(self.penalizer)

        def fun(log_params):
            return data.negloglik(np.exp(log_params), penalizer)

        log_params, res = _fit_log_params(fun, np.zeros(4))
        self._set_params(np.exp(log_params))
        self.loglik_ = float(-data.negloglik(np.exp(log_params), 0.0, grad=False) * data.n_customers)
        self.n_customers_ = int(round(data.n_customers))
        self.n_distinct_ = int(len(data.x))
        self.converged_ = _converged(res)
        self.optimizer_result_ = res
        return self

    # ---- the model's formulas ----------------------------------------------------------

    def log_likelihood(self, frequency, recency, T):
        """Each customer's log-likelihood at the model's parameters.

        Parameters
        ----------
        frequency, recency, T : array-like
            The customer summary, as in :meth:`fit`.

        Returns
        -------
        ndarray or Series or float
            ln L(r, alpha, a, b | x, t_x, T) per customer.
        """
        r, alpha, a, b = self._params()
        scalar = _is_scalar(frequency, recency, T)
        index = _index_of(frequency, recency, T)
        x, tx, T_ = _check_rfm(frequency, recency, T)
        lnB = betaln(a, b)
        head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
        l1 = betaln(a, b + x) - lnB - (r + x) * np.log(alpha + T_)
        with np.errstate(divide="ignore", invalid="ignore"):
            l2 = np.where(
                x > 0,
                betaln(a + 1, np.maximum(b + x - 1, 1e-300)) - lnB - (r + x) * np.log(alpha + tx),
                -np.inf,
            )
        return _output(head + np.logaddexp(l1, l2), index, "log_likelihood", scalar)

    def probability_alive(self, frequency, recency, T):
        """Probability that each customer is still active at the end of the period.

        P(alive | x, t_x, T) = 1 / (1 + [x > 0] a / (b + x - 1) ((alpha + T) / (alpha +
        t_x))^(r + x)), computed on the log scale so long-silent heavy buyers give 0, not
        an overflow. A customer with no repeat purchase gets 1 (assumption 3).

        Parameters
        ----------
        frequency, recency, T : array-like
            The customer summary, as in :meth:`fit`.

        Returns
        -------
        ndarray or Series or float
            Probabilities in [0, 1].
        """
        r, alpha, a, b = self._params()
        scalar = _is_scalar(frequency, recency, T)
        index = _index_of(frequency, recency, T)
        x, tx, T_ = _check_rfm(frequency, recency, T)
        return _output(self._p_alive(x, tx, T_), index, "probability_alive", scalar)

    def _p_alive(self, x, tx, T_) -> np.ndarray:
        r, alpha, a, b = self._params()
        with np.errstate(divide="ignore", invalid="ignore"):
            log_odds_dead = (
                np.log(a) - np.log(np.maximum(b + x - 1, 1e-300))
                + (r + x) * (np.log(alpha + T_) - np.log(alpha + tx))
            )
        return np.where(x > 0, expit(-log_odds_dead), 1.0)

    def expected_purchases(self, t, frequency, recency, T):
        """Expected number of purchases in the next ``t`` time units, given the history.

        E[Y(t) | x, t_x, T] of the paper's eq. (10). The Gaussian hypergeometric term is
        evaluated after Euler's transformation, 2F1(r+x, b+x; a+b+x-1; z) (1-z)^(r+x) =
        (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), whose first two arguments do not grow
        with x, so heavy buyers stay accurate.

        Parameters
        ----------
        t : float
            Length of the forecast period, in the unit of ``recency`` and ``T``.
        frequency, recency, T : array-like
            The customer summary at the end of the calibration period, as in :meth:`fit`.

        Returns
        -------
        ndarray or Series or float
            Expected purchases per customer.
        """
        scalar = _is_scalar(frequency, recency, T)
        index = _index_of(frequency, recency, T)
        x, tx, T_ = _check_rfm(frequency, recency, T)
        values = self._conditional_expectation(float(t), x, tx, T_)
        return _output(values, index, "expected_purchases", scalar)

    predict = expected_purchases  # the scikit-learn verb

    def _conditional_expectation(self, t: float, x, tx, T_, groups=None) -> np.ndarray:
        """E[Y(t) | x, t_x, T]; ``groups`` from :func:`_xT_groups` may be reused across t."""
        r, alpha, a, b = self._params()
        if t < 0 or not math.isfinite(t):
            raise ValueError(f"t: the forecast period must be a finite length >= 0, got {t}")
        if t == 0:
            return np.zeros_like(x)
        # the hypergeometric term depends on (x, T) only: evaluate it once per distinct pair
        codes, ux, uT = _xT_groups(x, T_) if groups is None else groups
        a = _away_from_one(a)
        z = t / (alpha + uT + t)
        one_minus_z = (alpha + uT) / (alpha + uT + t)
        c = a + b + ux - 1
        with np.errstate(over="ignore", invalid="ignore"):
            tail = one_minus_z ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, c, z)
            expected_if_alive = c / (a - 1) * (1 - tail)
        lost = ~np.isfinite(expected_if_alive)
        if lost.any():
            expected_if_alive[lost] = _one_dropout_rate(r, alpha, a, b, t, ux[lost], uT[lost])
        if codes is not None:
            expected_if_alive = expected_if_alive[codes]
        return expected_if_alive * self._p_alive(x, tx, T_)

    def expected_purchases_new(self, t):
        """Expected repeat purchases of a customer in the first ``t`` time units after the
        first purchase: E[X(t)] of the paper's eq. (9).

        Summed over a cohort's first-purchase dates it gives the expected cumulative repeat
        purchases, the curve of the paper's tracking chart (calibration and holdout).

        Parameters
        ----------
        t : float or array-like
            Time since the first purchase, in the model's time unit (>= 0).

        Returns
        -------
        float or ndarray
            E[X(t)].
        """
        r, alpha, a, b = self._params()
        scalar = np.ndim(t) == 0
        index = _index_of(t)
        tt = _array("t", t)
        bad = ~np.isfinite(tt) | (tt < 0)
        if bad.any():
            raise ValueError(f"t: time since the first purchase must be >= 0 at {_first_bad(bad, index)}")
        a = _away_from_one(a)
        z = tt / (alpha + tt)
        with np.errstate(over="ignore", invalid="ignore"):
            tail = (alpha / (alpha + tt)) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b - 1, z)
            values = np.asarray((a + b - 1) / (a - 1) * (1 - tail), dtype=float)
        lost = ~np.isfinite(values)
        if lost.any():
            values = np.where(lost, _one_dropout_rate(r, alpha, a, b, tt, 0, 0.0), values)
        return _output(values, index, "expected_purchases_new", scalar)


def _one_dropout_rate(r, alpha, a, b, t, x, T_):
    """E[Y(t) | alive, x, T] when a and b are so large that 2F1 overflows (a fit at the edge:
    every customer has the same dropout probability p = a / (a + b), the beta a point mass).
    With the purchase rate Gamma(r + x, alpha + T) a posteriori and dropout p after each
    purchase, E[Y(t)] = E[(1 - exp(-lambda p t)) / p] = (1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p,
    the limit of eq. (10) as a, b grow with a / (a + b) fixed."""
    p = a / (a + b)
    return (1 - ((alpha + T_) / (alpha + T_ + p * t)) ** (r + x)) / p


def _away_from_one(a: float) -> float:
    """The expectations have a removable 0/0 at a = 1: step just beside it."""
    return a if abs(a - 1.0) > 1e-7 else 1.0 + 1e-7


def _xT_groups(x: np.ndarray, T_: np.ndarray):
    """Distinct (x, T) pairs: (codes into them or None, their x, their T).

    Customers of one cohort share T and most share a small x, so scoring a million
    customers needs the hypergeometric function only for a few thousand pairs.
    """
    if len(x) < 1000:
        return None, x, T_
    cx, ux = pd.factorize(x)
    cT, uT = pd.factorize(T_)
    codes, pairs = pd.factorize(cx.astype(np.int64) * len(uT) + cT)
    if len(pairs) > len(x) // 2:
        return None, x, T_
    return codes, ux[pairs // len(uT)], uT[pairs % len(uT)]


class _BGData:
    """A compressed customer summary and the BG/NBD negative log-likelihood over it."""

    def __init__(self, x, tx, T_, w):
        self.x, self.tx, self.T, self.w = x, tx, T_, w
        self.n_customers = float(w.sum())
        # terms that depend on x only are computed once per distinct x
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=w, minlength=len(self.ux))
        self.has_repeat = x > 0

    @classmethod
    def compress(cls, x, tx, T_, w) -> "_BGData":
        """Collapse identical (x, t_x, T) rows into one row whose weight is their count."""
        keep = w > 0
        if not keep.all():
            x, tx, T_, w = x[keep], tx[keep], T_[keep], w[keep]
        if len(x) > 1:
            frame = pd.DataFrame({"x": x, "tx": tx, "T": T_, "w": w})
            grouped = frame.groupby(["x", "tx", "T"], sort=False, observed=True)["w"].sum()
            if len(grouped) < len(x):
                x = grouped.index.get_level_values(0).to_numpy(np.float64)
                tx = grouped.index.get_level_values(1).to_numpy(np.float64)
                T_ = grouped.index.get_level_values(2).to_numpy(np.float64)
                w = grouped.to_numpy(np.float64)
        return cls(x, tx, T_, w)

    def negloglik(self, params: np.ndarray, penalizer: float, grad: bool = True):
        """Mean negative log-likelihood per customer (+ penalty) and its gradient with
        respect to the log-parameters."""
        r, alpha, a, b = params
        ux, ix, w, N = self.ux, self.ix, self.w, self.n_customers
        x = self.x
        # per distinct x
        lnB = betaln(a, b)
        head_u = gammaln(r + ux) - gammaln(r)
        l1_u = betaln(a, b + ux) - lnB
        pos_u = ux > 0
        bx1 = np.where(pos_u, b + ux - 1, 1.0)
        l2_u = np.where(pos_u, l1_u + np.log(a) - np.log(bx1), -np.inf)
        # per row
        log_aT = np.log(alpha + self.T)
        log_atx = np.log(alpha + self.tx)
        rx = r + x
        l1 = l1_u[ix] - rx * log_aT
        l2 = l2_u[ix] - rx * log_atx
        lse = np.logaddexp(l1, l2)
        ll = (head_u * self.wx).sum() + r * np.log(alpha) * N + (w * lse).sum()
        value = -ll / N + penalizer * float(np.sum(params**2))
        if not grad:
            return value
        p2 = np.exp(l2 - lse)
        p1 = 1.0 - p2
        wp1, wp2 = w * p1, w * p2
        dig_ab = digamma(a + b)
        dig_abx_u = digamma(a + b + ux)
        g_r = (
            ((digamma(r + ux) - digamma(r)) * self.wx).sum() + np.log(alpha) * N
            - (wp1 * log_aT).sum() - (wp2 * log_atx).sum()
        )
        g_alpha = r / alpha * N - (rx * (wp1 / (alpha + self.T) + wp2 / (alpha + self.tx))).sum()
        common_u = (dig_ab - dig_abx_u) * self.wx
        g_a = common_u.sum() + wp2.sum() / a
        dig_bx_u = digamma(b + ux)
        dig_bx1_u = np.where(pos_u, digamma(bx1), 0.0)
        g_b = (
            common_u.sum() - digamma(b) * N
            + (wp1 * dig_bx_u[ix]).sum() + (wp2 * dig_bx1_u[ix]).sum()
        )
        g = np.array([g_r, g_alpha, g_a, g_b])
        grad_log = -g * params / N + 2 * penalizer * params**2
        return value, grad_log


# --------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------


class GammaGamma:
    """The Gamma-Gamma model of the value of a customer's purchases.

    Assumptions (Fader & Hardie 2013):

    1. The value of a customer's purchases varies randomly around that customer's average
       purchase value.
    2. Average purchase values differ across customers but do not change over time for
       any one customer.
    3. The distribution of average purchase values across customers is independent of the
       purchase process: how much a customer spends is unrelated to how often the customer
       buys (check the correlation of frequency and monetary value before relying on it).
    4. The value of one purchase, z, is gamma distributed with shape ``p`` and rate nu
       (mean p / nu).
    5. nu is gamma distributed across customers with shape ``q`` and rate ``gamma``.

    It is fitted to customers with at least one repeat purchase, on the number of repeat
    purchases x and the mean value of those repeat purchases m_x (the first purchase is
    left out, as in the note: it is often atypical, and the models forecast repeat
    purchases).

    References: Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
    Monetary Value", http://brucehardie.com/notes/025/ ; Fader, P. S., Hardie, B. G. S.
    and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
    Analysis", *Journal of Marketing Research* 42(4), 415-430.

    Parameters
    ----------
    penalizer : float, default 0.0
        L2 penalty on the parameters (natural scale) added to the mean negative
        log-likelihood. 0 gives the maximum-likelihood estimates.

    Attributes
    ----------
    p_, q_, gamma_ : float
        Fitted parameters (``gamma_`` in money units).
    params_ : dict
        ``{"p": p_, "q": q_, "gamma": gamma_}``.
    loglik_ : float
        Total log-likelihood of the fitted repeat customers (the density of m_x).
    n_customers_ : int
        Number of repeat customers fitted.
    converged_ : bool
        Whether the optimiser reached a stationary point.
    optimizer_result_ : scipy.optimize.OptimizeResult
        The optimiser's report (in the log-parameters, on the mean log-likelihood).
    """

    param_names = ("p", "q", "gamma")

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"GammaGamma({shown})"
        return f"GammaGamma(penalizer={self.penalizer})"

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> "GammaGamma":
        """A model with given parameters (e.g. published ones), ready to predict."""
        model = cls()
        model._set_params(np.array([p, q, gamma], dtype=np.float64))
        return model

    def _set_params(self, params: np.ndarray) -> None:
        if not np.all(np.isfinite(params)) or np.any(params <= 0):
            raise ValueError(f"Gamma-Gamma parameters must be positive and finite, got {params}")
        self.p_, self.q_, self.gamma_ = (float(v) for v in params)
        self.params_ = dict(zip(self.param_names, (self.p_, self.q_, self.gamma_)))

    def _params(self) -> tuple[float, float, float]:
        if not hasattr(self, "params_"):
            raise NotFittedError("this GammaGamma model is not fitted yet: call fit() first")
        return self.p_, self.q_, self.gamma_

    @staticmethod
    def _check(frequency, monetary_value):
        index = _index_of(frequency, monetary_value)
        x = _array("frequency", frequency)
        m = _array("monetary_value", monetary_value)
        if len(m) != len(x):
            if len(m) == 1 or len(x) == 1:
                x, m = (np.array(v) for v in np.broadcast_arrays(x, m))
            else:
                raise ValueError(f"frequency and monetary_value must have one length, got {len(x)}, {len(m)}")
        bad = ~np.isfinite(x) | (x < 0) | (x != np.round(x))
        if bad.any():
            raise ValueError(f"frequency: not a whole number >= 0 at {_first_bad(bad, index)}")
        repeat = x > 0
        bad = repeat & ~(np.isfinite(m) & (m > 0))
        if bad.any():
            raise ValueError(
                "monetary_value: the mean value of repeat purchases must be > 0 for a repeat "
                f"customer (the model has no zero or negative spend) at {_first_bad(bad, index)}"
            )
        return x, m, index

    def fit(self, frequency, monetary_value, weights=None) -> "GammaGamma":
        """Fit the model by maximum likelihood on the repeat customers.

        Parameters
        ----------
        frequency : array-like of int
            Repeat purchases per customer. Rows with 0 are ignored: they say nothing about
            repeat spend.
        monetary_value : array-like of float
            Mean value of each customer's repeat purchases (> 0 where frequency > 0).
        weights : array-like, optional
            Number of customers each row stands for.

        Returns
        -------
        GammaGamma
            ``self``, with the fitted attributes set.
        """
        x, m, _ = self._check(frequency, monetary_value)
        w = _check_weights(weights, len(x))
        keep = (x > 0) & (w > 0)
        x, m, w = x[keep], m[keep], w[keep]
        N = float(w.sum())
        if N <= 0:
            raise ValueError("GammaGamma.fit: no repeat customers (frequency > 0) to fit")
        data = _GGData(x, m, w)
        penalizer = float(self.penalizer)
        log_params, res = _fit_log_params(lambda z: data.negloglik(np.exp(z), penalizer), np.zeros(3))
        self._set_params(np.exp(log_params))
        self.loglik_ = float(-data.negloglik(np.exp(log_params), 0.0, grad=False) * N)
        self.n_customers_ = int(round(N))
        self.converged_ = _converged(res)
        self.optimizer_result_ = res
        return self

    def conditional_expected_spend(self, frequency, monetary_value):
        """Expected value of a customer's future purchases, given the past ones.

        E[Z | p, q, gamma, m_x, x] = (q - 1) / (p x + q - 1) * p gamma / (q - 1)
        + p x / (p x + q - 1) * m_x: a weighted mean of the population mean
        p gamma / (q - 1) and the customer's own mean m_x, the weight on m_x growing with
        the number of repeat purchases. A customer with no repeat purchase gets the
        population mean (``monetary_value`` is then ignored and may be 0 or NaN).

        Parameters
        ----------
        frequency : array-like of int
            Repeat purchases per customer.
        monetary_value : array-like of float
            Mean value of the repeat purchases.

        Returns
        -------
        ndarray or Series or float
            Expected value per purchase. Requires ``q_ > 1`` (a finite population mean).
        """
        p, q, g = self._params()
        if q <= 1:
            raise ValueError(f"q = {q:.4g} <= 1: the population mean spend is infinite")
        scalar = _is_scalar(frequency, monetary_value)
        x, m, index = self._check(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        values = (p * g + p * x * m) / (p * x + q - 1)
        return _output(values, index, "expected_spend", scalar)

    predict = conditional_expected_spend  # the scikit-learn verb

    def population_mean_spend(self) -> float:
        """Mean value of a purchase across all customers: p gamma / (q - 1)."""
        p, q, g = self._params()
        return p * g / (q - 1) if q > 1 else math.inf


class _GGData:
    """Repeat customers' (x, m_x) and the Gamma-Gamma negative log-likelihood over them.

    ln f(m_x | p, q, gamma, x) = ln G(px + q) - ln G(px) - ln G(q) + q ln gamma
    + (px - 1) ln m_x + px ln x - (px + q) ln(gamma + m_x x).
    """

    def __init__(self, x, m, w):
        self.x, self.w = x, w
        self.N = float(w.sum())
        self.ux, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix, weights=w, minlength=len(self.ux))
        log_m = np.log(m)
        self.xm = x * m
        self.sum_log_m = float((w * log_m).sum())
        self.sum_x_log_xm = float((w * x * (log_m + np.log(x))).sum())

    def negloglik(self, params: np.ndarray, penalizer: float, grad: bool = True):
        """Mean negative log-likelihood (+ penalty) and its gradient in the log-parameters."""
        p, q, g = params
        x, w, N, ux, wx = self.x, self.w, self.N, self.ux, self.wx
        px_u = p * ux
        log_gxm = np.log(g + self.xm)
        pxq = p * x + q
        ll = (
            ((gammaln(px_u + q) - gammaln(px_u)) * wx).sum() - gammaln(q) * N + q * np.log(g) * N
            + p * self.sum_x_log_xm - self.sum_log_m - (w * pxq * log_gxm).sum()
        )
        value = -ll / N + penalizer * float(np.sum(params**2))
        if not grad:
            return value
        dig_u = digamma(px_u + q)
        g_p = ((ux * (dig_u - digamma(px_u))) * wx).sum() + self.sum_x_log_xm - (w * x * log_gxm).sum()
        g_q = (dig_u * wx).sum() - digamma(q) * N + np.log(g) * N - (w * log_gxm).sum()
        g_g = q / g * N - (w * pxq / (g + self.xm)).sum()
        return value, -np.array([g_p, g_q, g_g]) * params / N + 2 * penalizer * params**2


# --------------------------------------------------------------------------------------
# value and checks
# --------------------------------------------------------------------------------------


def customer_lifetime_value(
    bg: BetaGeo,
    gg: GammaGamma,
    frequency,
    recency,
    T,
    monetary_value,
    periods: int,
    margin: float = 1.0,
    discount_rate: float = 0.0,
    period_length: float = 1.0,
):
    """Expected discounted margin from each customer over the next ``periods`` periods.

    CLV = sum over i = 1..periods of
    (E[Y(i L)] - E[Y((i-1) L)]) * spend * margin / (1 + discount_rate)^i,
    with E[Y(t)] the BG/NBD conditional expected purchases in the next t time units,
    L = ``period_length`` and spend the Gamma-Gamma conditional expected value of a purchase
    (the lifetimes method: each period's expected purchases discounted at the period's end).

    Units: ``recency``, ``T`` and ``period_length`` are in the time unit the BG/NBD model
    was fitted in; a *period* is ``period_length`` of those units and ``discount_rate`` is
    the rate per period. With a model in weeks, ``period_length=1`` makes periods weeks
    (``discount_rate`` weekly); ``period_length=365.25 / 12 / 7`` (about 4.35) makes them
    months with a monthly rate. ``margin`` is the share of a purchase's value that is
    profit (1.0 gives discounted revenue).

    Parameters
    ----------
    bg : BetaGeo
        Fitted purchase model.
    gg : GammaGamma
        Fitted spend model.
    frequency, recency, T : array-like
        Customer summary at the end of the calibration period.
    monetary_value : array-like
        Mean value of each customer's repeat purchases (ignored where frequency is 0).
    periods : int
        Number of periods in the horizon (>= 1).
    margin : float, default 1.0
        Profit margin on spend, a fraction.
    discount_rate : float, default 0.0
        Discount rate per period (0.01 = 1% per period).
    period_length : float, default 1.0
        Length of one period in the model's time unit.

    Returns
    -------
    ndarray or Series or float
        Discounted expected margin per customer (a Series named ``clv`` on the input's
        index when the input is pandas).
    """
    if int(periods) != periods or periods < 1:
        raise ValueError(f"periods: a whole number >= 1 is needed, got {periods}")
    if not (period_length > 0 and math.isfinite(period_length)):
        raise ValueError(f"period_length: must be > 0, got {period_length}")
    if discount_rate <= -1:
        raise ValueError(f"discount_rate: must be > -1, got {discount_rate}")
    scalar = _is_scalar(frequency, recency, T, monetary_value)
    index = _index_of(frequency, recency, T, monetary_value)
    x, tx, T_ = _check_rfm(frequency, recency, T)
    spend = _array("spend", gg.conditional_expected_spend(x, _array("monetary_value", monetary_value)))
    value = np.zeros_like(x)
    previous = np.zeros_like(x)
    groups = _xT_groups(x, T_)
    for i in range(1, int(periods) + 1):
        current = bg._conditional_expectation(i * period_length, x, tx, T_, groups)
        value += (current - previous) / (1.0 + discount_rate) ** i
        previous = current
    return _output(value * spend * margin, index, "clv", scalar)


def holdout_comparison(
    bg: BetaGeo,
    calibration: pd.DataFrame,
    holdout_purchases,
    holdout_length: float,
    max_frequency: int = 7,
) -> pd.DataFrame:
    """Compare predicted and actual holdout purchases, by calibration repeat purchases.

    The check of Fader, Hardie & Lee (2005), Figure 4: customers are grouped by their
    number of repeat purchases in the calibration period (0, 1, ..., ``max_frequency``-1
    and ``max_frequency``+), and each group's mean actual purchases in the holdout period
    are set beside the mean of the model's conditional expectation E[Y(t) | x, t_x, T].

    Parameters
    ----------
    bg : BetaGeo
        Model fitted on the calibration period.
    calibration : DataFrame
        Columns ``frequency``, ``recency``, ``T`` (calibration summary), one row per
        customer.
    holdout_purchases : Series or array-like
        Purchases (repeat transactions) of each customer in the holdout period, aligned
        with ``calibration`` (by index if a Series).
    holdout_length : float
        Length of the holdout period, in the model's time unit.
    max_frequency : int, default 7
        The last, open group (7 gives groups 0..6 and 7+). A group without customers
        shows NaN means.

    Returns
    -------
    DataFrame
        Indexed by ``frequency`` (labels "0", ..., "7+"), columns ``customers``,
        ``actual`` and ``predicted`` (mean holdout purchases per customer in the group),
        ``actual_total`` and ``predicted_total``. ``attrs`` holds the error figures:
        ``mae`` (mean absolute error of the group means weighted by customers),
        ``actual_total``, ``predicted_total``, ``total_error`` (predicted / actual - 1)
        and ``customers``.
    """
    if int(max_frequency) != max_frequency or max_frequency < 1:
        raise ValueError(f"max_frequency: a whole number >= 1 is needed, got {max_frequency}")
    missing = {"frequency", "recency", "T"} - set(calibration.columns)
    if missing:
        raise ValueError(f"calibration: missing column(s) {sorted(missing)}")
    if isinstance(holdout_purchases, pd.Series):
        if not holdout_purchases.index.equals(calibration.index):
            holdout_purchases = holdout_purchases.reindex(calibration.index)
    actual = _array("holdout_purchases", holdout_purchases)
    if len(actual) != len(calibration):
        raise ValueError(f"holdout_purchases: expected {len(calibration)} values, got {len(actual)}")
    bad = ~np.isfinite(actual)
    if bad.any():
        raise ValueError(f"holdout_purchases: missing value at {_first_bad(bad, calibration.index)}")
    x, tx, T_ = _check_rfm(calibration["frequency"], calibration["recency"], calibration["T"])
    predicted = bg._conditional_expectation(float(holdout_length), x, tx, T_)
    group = np.minimum(x, max_frequency).astype(int)
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"group": group, "actual": actual, "predicted": predicted})
    sums = frame.groupby("group").agg(
        customers=("actual", "size"), actual_total=("actual", "sum"), predicted_total=("predicted", "sum")
    )
    sums = sums.reindex(range(max_frequency + 1), fill_value=0)
    customers = sums["customers"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):  # an empty group's means are NaN
        actual_mean = np.where(customers > 0, sums["actual_total"].to_numpy() / customers, np.nan)
        predicted_mean = np.where(customers > 0, sums["predicted_total"].to_numpy() / customers, np.nan)
    table = pd.DataFrame(
        {
            "customers": customers,
            "actual": actual_mean,
            "predicted": predicted_mean,
            "actual_total": sums["actual_total"].to_numpy(),
            "predicted_total": sums["predicted_total"].to_numpy(),
        },
        index=pd.Index(labels, name="frequency"),
    )
    n = int(table["customers"].sum())
    actual_total = float(actual.sum())
    predicted_total = float(predicted.sum())
    table.attrs.update(
        mae=float((table["customers"] * (table["actual"] - table["predicted"]).abs()).sum() / max(n, 1)),
        actual_total=actual_total,
        predicted_total=predicted_total,
        total_error=predicted_total / actual_total - 1 if actual_total else math.nan,
        customers=n,
    )
    return table


_UNIT_DAYS = {"D": 1.0, "W": 7.0, "M": 365.25 / 12}


def summary_from_events(
    df: pd.DataFrame,
    customer_col: str,
    date_col: str,
    value_col: str | None,
    observation_end,
    freq: str | float = "W",
    calibration_end=None,
) -> pd.DataFrame:
    """Customer summary (frequency, recency, T, monetary value) from a purchase log.

    A small pandas reference implementation, for tests and tiny data. The workbook's
    database version of this summary lives in ``rfm.py`` and runs as SQL in DuckDB; this one
    defines the conventions that version must match:

    1. Only purchases on or before ``observation_end`` count; times are calendar days
       (a timestamp's time of day is dropped).
    2. A customer's purchases on one day are one purchase; their values are summed.
    3. The first purchase is not a repeat purchase: ``frequency`` = purchase days - 1.
    4. ``recency`` = last purchase day - first purchase day; ``T`` = end of the
       calibration period - first purchase day; both in units of ``freq`` (a customer
       whose first purchase is 1997-01-01 has T = 272 / 7 = 38.857 weeks at 1997-09-30,
       as in Fader and Hardie's CDNOW summary).
    5. ``monetary_value`` = mean value of the repeat purchases (the first purchase left
       out), 0 for a customer without repeat purchases (as in lifetimes).
    6. With ``calibration_end``, the summary describes the calibration period (purchases up
       to and including ``calibration_end``), only customers whose first purchase falls in
       it are kept, and holdout columns describe the days after it up to
       ``observation_end``: ``frequency_holdout`` (purchase days), ``monetary_value_holdout``
       (their mean value, 0 if none) and ``duration_holdout``.

    Parameters
    ----------
    df : DataFrame
        One row per purchase (or order line). Dates as datetimes or ISO-8601 text.
    customer_col, date_col : str
        Column names of the customer id and the purchase date.
    value_col : str or None
        Column with the purchase value; None leaves the monetary columns out.
    observation_end : date-like
        Last day of the observation period.
    freq : {"D", "W", "M"} or float, default "W"
        Time unit: days, weeks (7 days), months (365.25 / 12 days), or a number of days.
    calibration_end : date-like, optional
        Last day of the calibration period, for a calibration/holdout split.

    Returns
    -------
    DataFrame
        Indexed by customer: ``frequency``, ``recency``, ``T`` (and ``monetary_value``),
        plus the holdout columns when ``calibration_end`` is given.
    """
    unit = float(_UNIT_DAYS[freq]) if isinstance(freq, str) and freq in _UNIT_DAYS else None
    if unit is None:
        try:
            unit = float(freq)
        except (TypeError, ValueError):
            raise ValueError(f"freq: one of {sorted(_UNIT_DAYS)} or a number of days, got {freq!r}") from None
        if not unit > 0:
            raise ValueError(f"freq: a number of days must be > 0, got {freq!r}")
    for col in (customer_col, date_col) + ((value_col,) if value_col else ()):
        if col not in df.columns:
            raise ValueError(f"summary_from_events: no column {col!r} in the purchase log")
    obs_end = pd.Timestamp(observation_end).normalize()
    cal_end = obs_end if calibration_end is None else pd.Timestamp(calibration_end).normalize()
    if cal_end > obs_end:
        raise ValueError(f"calibration_end {cal_end.date()} is after observation_end {obs_end.date()}")

    cols = [customer_col, date_col] + ([value_col] if value_col else [])
    log = df[cols].copy()
    dates = log[date_col]
    if not pd.api.types.is_datetime64_any_dtype(dates):
        dates = pd.to_datetime(dates, format="ISO8601")
    log["_day"] = dates.dt.normalize()
    bad = log["_day"].isna().to_numpy() | log[customer_col].isna().to_numpy()
    if bad.any():
        raise ValueError(f"summary_from_events: missing customer or date at {_first_bad(bad, log.index)}")
    log = log[log["_day"] <= obs_end]
    if value_col:
        log["_value"] = pd.to_numeric(log[value_col]).astype(np.float64)
        bad = log["_value"].isna().to_numpy()
        if bad.any():
            raise ValueError(f"summary_from_events: missing {value_col!r} at {_first_bad(bad, log.index)}")
    else:
        log["_value"] = 0.0
    days = log.groupby([customer_col, "_day"], sort=True)["_value"].sum().reset_index()

    cal = days[days["_day"] <= cal_end]
    per = cal.groupby(customer_col, sort=True)
    first = per["_day"].min()
    last = per["_day"].max()
    n_days = per.size()
    total = per["_value"].sum()
    first_value = per["_value"].first()  # days are sorted within a customer
    one_day = pd.Timedelta(days=1)
    out = pd.DataFrame(
        {
            "frequency": (n_days - 1).astype(np.int64),
            "recency": (last - first) / one_day / unit,
            "T": (cal_end - first) / one_day / unit,
        }
    )
    out.index.name = customer_col
    if value_col:
        repeat_value = (total - first_value).to_numpy()
        freq_ = out["frequency"].to_numpy()
        out["monetary_value"] = np.where(freq_ > 0, repeat_value / np.maximum(freq_, 1), 0.0)
    if calibration_end is not None:
        hold = days[(days["_day"] > cal_end) & days[customer_col].isin(out.index)]
        hper = hold.groupby(customer_col)
        out["frequency_holdout"] = hper.size().reindex(out.index, fill_value=0).astype(np.int64)
        if value_col:
            out["monetary_value_holdout"] = hper["_value"].mean().reindex(out.index, fill_value=0.0)
        out["duration_holdout"] = (obs_end - cal_end) / one_day / unit
    return out
