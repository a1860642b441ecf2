"""The BG/NBD model of repeat purchasing: how often a customer buys, and whether the
customer is still "alive".

Assumptions (Fader, Hardie & Lee 2005), stated in full on :class:`BetaGeo`: while active,
a customer buys as a Poisson process whose rate is gamma distributed across customers;
after each repeat purchase the customer drops out for good with a probability that is
beta distributed across customers; the two vary independently. A customer without repeat
purchases counts as alive.

Reference: Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005), "'Counting Your
Customers' the Easy Way: An Alternative to the Pareto/NBD Model", *Marketing Science*
24(2), 275-284.

A million customers. The BG/NBD likelihood depends on a customer only through
``(frequency, recency, T)``; with dates measured in whole days there are far fewer distinct
triples than customers, so :meth:`BetaGeo.fit` compresses the rows to distinct triples
with counts (or takes counts from ``weights``) before it optimises.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1

from .base import (
    BaseFitter,
    _array,
    _check_rfm,
    _check_weights,
    _first_bad,
    _index_of,
    _is_scalar,
    _output,
    _xT_groups,
)


class BetaGeo(BaseFitter):
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
    model_name = "BG/NBD"

    # ---- construction ----------------------------------------------------------------

    @classmethod
    def from_params(cls, r: float, alpha: float, a: float, b: float) -> "BetaGeo":
        """A model with given parameters (e.g. published ones), ready to predict.

        ``loglik_`` and ``n_customers_`` are not set: nothing was fitted.
        """
        model = cls()
        model._set_params(np.array([r, alpha, a, b], dtype=np.float64))
        return model

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
        self._fit(data.negloglik, data.n_customers)
        self.n_distinct_ = int(len(data.x))
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
        if t == 0:
            return np.zeros_like(x)
        # the hypergeometric term depends on (x, T) only: evaluate it once per distinct pair
        codes, ux, uT = _xT_groups(x, T_) if groups is None else groups
        expected_if_alive = self._expected_if_alive(t, ux, uT)
        if codes is not None:
            expected_if_alive = expected_if_alive[codes]
        return expected_if_alive * self._p_alive(x, tx, T_)

    def _expected_if_alive(self, t: float, ux, uT) -> np.ndarray:
        """E[Y(t) | alive, x, T] for each (x, T) of ``ux``, ``uT``: the conditional expectation
        is this times P(alive | x, t_x, T), which does not depend on t."""
        r, alpha, a, b = self._params()
        if t < 0 or not math.isfinite(t):
            raise ValueError(f"t: the forecast period must be a finite length >= 0, got {t}")
        if t == 0:
            return np.zeros_like(ux, dtype=float)
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
        return expected_if_alive

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


class _BGData:
    """A compressed customer summary and the BG/NBD negative log-likelihood over it."""

    def __init__(self, x, tx, T_, w):
        self.x, self.tx, self.T, self.w = x, tx, T_, w
        self.n_customers = float(w.sum())
        # terms that depend on x only are computed once per distinct x, the logarithms of
        # alpha + T and alpha + t_x once per distinct T and t_x (whole days: a few thousand)
        self.ux, self.ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(self.ix, weights=w, minlength=len(self.ux))
        self.iT, self.uT = pd.factorize(T_)
        self.itx, self.utx = pd.factorize(tx)
        self.has_repeat = x > 0

    @classmethod
    def compress(cls, x, tx, T_, w) -> "_BGData":
        """Collapse identical (x, t_x, T) rows into one row whose weight is their count."""
        keep = w > 0
        if not keep.all():
            x, tx, T_, w = x[keep], tx[keep], T_[keep], w[keep]
        if len(x) > 1:  # one integer key per row from the codes of x, t_x and T (first-seen order)
            codes = [pd.factorize(v) for v in (x, tx, T_)]
            key = np.zeros(len(x), dtype=np.int64)
            for c, uniques in codes:
                key = key * len(uniques) + c
            row, distinct = pd.factorize(key)
            if len(distinct) < len(x):
                first = np.empty(len(distinct), dtype=np.int64)
                first[row[::-1]] = np.arange(len(x) - 1, -1, -1)  # the first row of each distinct triple
                w = np.bincount(row, weights=w, minlength=len(distinct))
                x, tx, T_ = x[first], tx[first], T_[first]
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
        aT, atx = (alpha + self.uT)[self.iT], (alpha + self.utx)[self.itx]
        log_aT, log_atx = np.log(alpha + self.uT)[self.iT], np.log(alpha + self.utx)[self.itx]
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
        g_alpha = r / alpha * N - (rx * (wp1 / aT + wp2 / atx)).sum()
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
