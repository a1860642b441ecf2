"""The Gamma-Gamma model of the value of a customer's purchases.

Assumptions (Fader & Hardie 2013), stated in full on :class:`GammaGamma`: the value of
a customer's purchases varies randomly around that customer's average, which does not
change over time; the value of one purchase is gamma distributed, with a rate that is
gamma distributed across customers; and how much a customer spends is independent of how
often the customer buys. The model is fitted to the repeat purchases of repeat customers.

References: Fader, P. S. and Hardie, B. G. S. (2013), "The Gamma-Gamma Model of
Monetary Value", http://brucehardie.com/notes/025/ ; Fader, P. S., Hardie, B. G. S.
and Lee, K. L. (2005), "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis", *Journal of Marketing Research* 42(4), 415-430.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import digamma, gammaln

from .base import (
    BaseFitter,
    _array,
    _check_weights,
    _first_bad,
    _index_of,
    _is_scalar,
    _output,
)


class GammaGamma(BaseFitter):
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
    model_name = "Gamma-Gamma"

    @classmethod
    def from_params(cls, p: float, q: float, gamma: float) -> "GammaGamma":
        """A model with given parameters (e.g. published ones), ready to predict."""
        model = cls()
        model._set_params(np.array([p, q, gamma], dtype=np.float64))
        return model

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
        self._fit(_GGData(x, m, w).negloglik, N)
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
        self.wx_ = w * x  # the weighted sums over customers below are dot products with w and w x
        self.N = float(w.sum())
        self.ux, ix = np.unique(x, return_inverse=True)
        self.wx = np.bincount(ix, weights=w, minlength=len(self.ux))
        log_m = np.log(m)
        self.xm = x * m
        self.sum_log_m = float(w @ log_m)
        self.sum_x_log_xm = float(self.wx_ @ (log_m + np.log(x)))

    def negloglik(self, params: np.ndarray, penalizer: float, grad: bool = True):
        """Mean negative log-likelihood (+ penalty) and its gradient in the log-parameters.

        Per customer only ln(gamma + m_x x) and 1 / (gamma + m_x x) depend on the parameters;
        the sums over customers are dot products of those with w and w x (two passes over
        the customers for the value, two more for the gradient)."""
        p, q, g = params
        w, wx_, N, ux, wx = self.w, self.wx_, self.N, self.ux, self.wx
        px_u = p * ux
        log_gxm = np.log(g + self.xm)
        w_log, wx_log = float(w @ log_gxm), float(wx_ @ log_gxm)  # sums of w ln(.) and w x ln(.)
        ll = (
            ((gammaln(px_u + q) - gammaln(px_u)) * wx).sum() - gammaln(q) * N + q * np.log(g) * N
            + p * self.sum_x_log_xm - self.sum_log_m - (p * wx_log + q * w_log)
        )
        value = -ll / N + penalizer * float(np.sum(params**2))
        if not grad:
            return value
        inv = np.reciprocal(g + self.xm, out=log_gxm)  # log_gxm is no longer needed: its memory is reused
        dig_u = digamma(px_u + q)
        g_p = ((ux * (dig_u - digamma(px_u))) * wx).sum() + self.sum_x_log_xm - wx_log
        g_q = (dig_u * wx).sum() - digamma(q) * N + np.log(g) * N - w_log
        g_g = q / g * N - (p * float(wx_ @ inv) + q * float(w @ inv))
        return value, -np.array([g_p, g_q, g_g]) * params / N + 2 * penalizer * params**2
