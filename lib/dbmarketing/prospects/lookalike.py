"""The look-alike: which prospects look like the best customers.

A logistic regression on one-hot coded attributes, trained on current customers, best (1)
against the rest (0), using only the attributes both customers and prospects have
(:data:`~.pool.SHARED_ATTRIBUTES`). Why a logistic regression: with a handful of categorical
attributes the model is a sum of one weight per value, which a marketer can read (the
coefficients are log-odds, the profile's index in another form), it needs no tuning, and its
score is a probability of "looking like a best customer" that is stable on a few thousand
customers; a tree ensemble would find interactions the attributes hardly hold and would
over-fit small cells. The model is judged by its AUC on a held-out part of the customers
(stratified, ``holdout`` of them): 0.5 means the attributes say nothing about who is best.

The same class learns the **response model** of an acquisition test (the contacted list rows,
responded 1/0, with the list's own attributes too): one piece of code for both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..warehouse import NotEnoughData
from .pool import SHARED_ATTRIBUTES, attribute_values

__all__ = ["AttributeModel", "fit_attribute_model", "lookalike"]

# Of more rows a model learns from a seeded random this many: the weights of a handful of
# categorical attributes are as sure on a million rows as on ten million, at a tenth of the
# memory and time (notebook 08 at 10M customers, 2026-12-07: 4.8 s).
FIT_ROWS = 1_000_000


@dataclass
class AttributeModel:
    """A fitted attribute model: ``attributes`` it reads, the scikit-learn ``pipeline``, the
    ``auc`` on the hold-out, the ``holdout`` frame (index of the rows held out, ``y``,
    ``score``), ``coefficients`` (attribute, level, coefficient: log-odds against the average)
    and ``rate`` (the share of 1s it learned from)."""

    attributes: tuple
    pipeline: object
    auc: float
    holdout: pd.DataFrame
    coefficients: pd.DataFrame
    rate: float
    train_index: pd.Index = field(default_factory=lambda: pd.Index([]))
    rows: int = 0  # the rows it could learn from: more than train and hold-out when it drew FIT_ROWS of them

    def score(self, frame: pd.DataFrame) -> np.ndarray:
        """P(1 | attributes) for every row of ``frame`` (a value not seen in training counts as
        the average: its one-hot column is all zeros)."""
        if len(frame) == 0:
            return np.zeros(0)
        return self.pipeline.predict_proba(attribute_values(frame, self.attributes))[:, 1]


def fit_attribute_model(frame: pd.DataFrame, y, attributes, holdout: float = 0.3, seed: int = 42,
                        min_rows: int = 100, min_ones: int = 10, holdout_index=None,
                        fit_rows: int = FIT_ROWS) -> AttributeModel:
    """Fit the logistic regression of ``y`` (0/1, aligned with ``frame``) on the one-hot coded
    ``attributes`` on all rows but a stratified hold-out (``holdout`` of them, drawn with
    ``seed``; or the rows of ``holdout_index`` given), and measure its AUC on the hold-out.
    Raises :class:`~dbmarketing.warehouse.NotEnoughData` with fewer than ``min_rows`` rows or
    ``min_ones`` ones or zeros. Of more than ``fit_rows`` rows (and no ``holdout_index``) it
    learns from a random ``fit_rows`` of them, drawn with ``seed`` (``rows`` says how many it had)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    y = pd.Series(np.asarray(y, dtype=int), index=frame.index)
    ones = int(y.sum())
    if len(frame) < min_rows or ones < min_ones or len(frame) - ones < min_ones:
        raise NotEnoughData("needs.prospects_model", rows=len(frame), ones=ones, min_rows=min_rows, min_ones=min_ones)
    rows = len(frame)
    if holdout_index is None and rows > fit_rows:
        keep = np.sort(np.random.default_rng(seed).choice(rows, fit_rows, replace=False))
        frame, y = frame.iloc[keep], y.iloc[keep]
    X = attribute_values(frame, attributes)
    if holdout_index is None:
        train, test = train_test_split(frame.index, test_size=holdout, random_state=seed, stratify=y)
    else:
        test = pd.Index(holdout_index)
        train = frame.index.difference(test)
    if y[test].nunique() < 2 or y[train].nunique() < 2:
        raise NotEnoughData("needs.prospects_model", rows=len(frame), ones=ones, min_rows=min_rows, min_ones=min_ones)
    pipeline = make_pipeline(OneHotEncoder(handle_unknown="ignore"), LogisticRegression(max_iter=2000))
    pipeline.fit(X.loc[train], y[train])
    score = pipeline.predict_proba(X.loc[test])[:, 1]
    auc = float(roc_auc_score(y[test], score))
    encoder, logit = pipeline[0], pipeline[-1]
    coef = []
    for a, levels in zip(attributes, encoder.categories_):
        for level in levels:
            coef.append({"attribute": a, "level": level})
    coefficients = pd.DataFrame(coef).assign(coefficient=logit.coef_[0])
    hold = pd.DataFrame({"y": y[test].to_numpy(), "score": score}, index=test)
    return AttributeModel(tuple(attributes), pipeline, auc, hold, coefficients, float(y[train].mean()), train, rows)


def lookalike(base: pd.DataFrame, best, attributes=SHARED_ATTRIBUTES, holdout: float = 0.3, seed: int = 42) -> AttributeModel:
    """The look-alike: best (1) vs the rest (0) among the customers of ``base``, on the
    ``attributes`` prospects have too (by default :data:`~.pool.SHARED_ATTRIBUTES`)."""
    return fit_attribute_model(base, best, attributes, holdout=holdout, seed=seed)
