"""What the CLV fitters share: input checks, the optimiser and the data-compression helper.

Conventions every fitter of this package assumes (those of the lifetimes package):
customers are described by their purchase summary (``frequency``, ``recency``, ``T``,
``monetary_value``; see the package docstring for the units); a model is fitted by
maximum likelihood -- the mean negative log-likelihood per customer plus an optional L2
``penalizer`` -- over the log of each parameter (so every parameter stays positive) with
``scipy.optimize.minimize``; the fitted values end in ``_`` and are gathered in
``params_``. Rows of identical customers may be compressed to one row with a count
(``weights``) without changing the fit.

Reference: Davidson-Pilon, C. et al., *lifetimes* (Python package), whose ``BaseFitter``
and naming this follows. The models and their papers: :mod:`.bgnbd`, :mod:`.gamma_gamma`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize

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
    Nelder-Mead only moves the start away from where L-BFGS-B stopped, the polish sets the
    precision: held to 1e-10 on a likelihood whose optimum lies far out along a flat ridge
    (customers whose purchase rates hardly differ: r and alpha run to the bound together) it took
    its 20,000 steps, 7.5 s of a 100-customer fit, to end where 55 steps at 1e-6 end.
    """
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(x0)
    opts = {"maxiter": 5000, "ftol": 1e-15, "gtol": 1e-10}
    res = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    if not _converged(res):
        nm = minimize(
            lambda z: fun(z)[0], res.x, method="Nelder-Mead", bounds=bounds,
            options={"maxiter": 2000, "xatol": 1e-6, "fatol": 1e-10},
        )
        res = minimize(fun, nm.x, jac=True, method="L-BFGS-B", bounds=bounds, options=opts)
    return res.x, res


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


# --------------------------------------------------------------------------------------
# the fitter base
# --------------------------------------------------------------------------------------


class BaseFitter:
    """What the fitters share: the penalty, the fitted parameters and the fit itself.

    A subclass names its parameters in ``param_names`` (the fitted values go to the
    attributes ``<name>_`` and to the dict ``params_``, in that order) and its model in
    ``model_name`` (for error messages).
    """

    param_names: tuple[str, ...] = ()
    model_name = ""

    def __init__(self, penalizer: float = 0.0):
        self.penalizer = penalizer

    def __repr__(self) -> str:
        if hasattr(self, "params_"):
            shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
            return f"{type(self).__name__}({shown})"
        return f"{type(self).__name__}(penalizer={self.penalizer})"

    def _set_params(self, params: np.ndarray) -> None:
        if not np.all(np.isfinite(params)) or np.any(params <= 0):
            raise ValueError(f"{self.model_name} parameters must be positive and finite, got {params}")
        values = [float(v) for v in params]
        for name, value in zip(self.param_names, values):
            setattr(self, f"{name}_", value)
        self.params_ = dict(zip(self.param_names, values))

    def _params(self) -> tuple[float, ...]:
        if not hasattr(self, "params_"):
            raise NotFittedError(f"this {type(self).__name__} model is not fitted yet: call fit() first")
        return tuple(getattr(self, f"{name}_") for name in self.param_names)

    def _fit(self, negloglik, n_customers: float) -> None:
        """Fit by minimising ``negloglik(params, penalizer) -> (value, gradient)``, the mean
        negative log-likelihood of ``n_customers``, and set the fitted attributes."""
        penalizer = float(self.penalizer)
        log_params, res = _fit_log_params(
            lambda z: negloglik(np.exp(z), penalizer), np.zeros(len(self.param_names))
        )
        self._set_params(np.exp(log_params))
        self.loglik_ = float(-negloglik(np.exp(log_params), 0.0, grad=False) * n_customers)
        self.n_customers_ = int(round(n_customers))
        self.converged_ = _converged(res)
        self.optimizer_result_ = res
