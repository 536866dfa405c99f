"""Fitting the churn model: standardised features, L2 logistic regression (scikit-learn).

Pure: no Django. A fitted model is a JSON-safe dict (fill values, means, scales,
coefficients), so it is stored in the database and applied without pickles, by
`churn.prediction` in plain Python: only training imports NumPy and scikit-learn.

The customer-dates are split by one contract fact, `renewal_due` (a term of the
contract ends within the horizon, so the customer can leave in it):
- each part with at least MIN_CHURNED churned customers gets its own logistic regression,
  its L2 strength chosen by cross-validated log loss with folds grouped by customer (no
  customer in two folds) within the training rows;
- a part with fewer churners gets the churn rate its rows had, smoothed (Jeffreys), e.g.
  annual contracts far from renewal, which cannot end within the horizon.
Everything is deterministic for a seed (the folds are shuffled with it).
"""

import math

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from churn.prediction import (
    ALGORITHM,
    PARTS,
    SPLIT_COLUMN,
    Contribution,
    apply_calibration,
    contributions,
    part_for,
    predict,
)

__all__ = ["Contribution", "apply_calibration", "calibrate_score", "choose_c", "contributions", "fit", "part_for", "predict"]

C_GRID = tuple(float(c) for c in np.logspace(-3, 1, 13))
FOLDS = 5
MIN_CHURNED = 8  # churned customers a part needs for a regression of its own
MAX_ITER = 5000


def _matrix(rows) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in rows], dtype=float).reshape(len(rows), -1)


def _preparation() -> Pipeline:
    """Missing values take the training mean (0 for a column missing everywhere), then standardise.

    A constant column keeps a scale of 1 and gets no weight.
    """
    return make_pipeline(SimpleImputer(strategy="mean", keep_empty_features=True), StandardScaler())


def _regression(c: float, seed: int) -> LogisticRegression:
    return LogisticRegression(C=c, l1_ratio=0.0, max_iter=MAX_ITER, random_state=seed)


def choose_c(x: np.ndarray, y: np.ndarray, groups: np.ndarray, seed: int) -> tuple[float, dict]:
    """Return the L2 strength with the lowest mean log loss over folds grouped by customer, and every score.

    Within a fold the strengths are fitted from strong to weak, each starting from the
    previous solution (a warm start: the same optimum, found faster).
    """
    folds = min(FOLDS, len(set(groups.tolist())))
    splits = GroupKFold(n_splits=folds, shuffle=True, random_state=seed).split(x, y, groups)
    losses = {c: [] for c in C_GRID}
    for train, test in splits:
        if len(set(y[train].tolist())) < 2:
            continue
        preparation = _preparation().fit(x[train])
        x_train, x_test = preparation.transform(x[train]), preparation.transform(x[test])
        model = _regression(C_GRID[0], seed).set_params(warm_start=True)
        for c in sorted(C_GRID):
            model.set_params(C=c).fit(x_train, y[train])
            losses[c].append(log_loss(y[test], model.predict_proba(x_test)[:, 1], labels=[False, True]))
    mean_loss = {c: float(np.mean(values)) if values else math.inf for c, values in losses.items()}
    best = min(C_GRID, key=lambda c: (mean_loss[c], -c))
    return best, {f"{c:.6g}": round(loss, 6) for c, loss in mean_loss.items()}


def _fit_part(x, y, groups, seed) -> dict:
    churned_customers = len(set(groups[y].tolist()))
    rows, churned = len(y), int(y.sum())
    if churned_customers < MIN_CHURNED or churned == rows:
        return {"kind": "rate", "rate": (churned + 0.5) / (rows + 1), "rows": rows, "churned": churned,
                "churned_customers": churned_customers}  # fmt: skip
    c, losses = choose_c(x, y, groups, seed)
    pipeline = make_pipeline(_preparation(), _regression(c, seed)).fit(x, y)
    preparation, model = pipeline[0], pipeline[-1]
    imputer, scaler = preparation[0], preparation[-1]
    return {
        "kind": "logistic",
        "c": c,
        "cv_log_loss": losses,
        "fill": imputer.statistics_.tolist(),
        "mean": scaler.mean_.tolist(),
        "scale": scaler.scale_.tolist(),
        "coef": model.coef_[0].tolist(),
        "intercept": float(model.intercept_[0]),
        "rows": rows,
        "churned": churned,
        "churned_customers": churned_customers,
    }


def fit(rows, labels, groups, columns: list[str], *, seed: int = 0) -> dict:
    """Fit the model on design rows (None: missing), churn labels and each row's customer; return it as a dict."""
    x, y, g = _matrix(rows), np.array(labels, dtype=bool), np.array(groups)
    if len(y) == 0 or not y.any() or y.all():
        raise ValueError("the training dates need both churned and retained customers")
    split = columns.index(SPLIT_COLUMN) if SPLIT_COLUMN in columns else None
    masks = {"due": np.ones(len(y), dtype=bool)} if split is None else {
        name: x[:, split] == value for value, name in PARTS.items()
    }  # fmt: skip
    with threadpool_limits(1):  # small matrices: BLAS threads only contend (ten times slower on a busy machine)
        parts = {name: _fit_part(x[mask], y[mask], g[mask], seed) for name, mask in masks.items() if mask.any()}
    return {"algorithm": ALGORITHM, "columns": list(columns), "split_column": SPLIT_COLUMN if split is not None else None,
            "parts": parts, "seed": seed}  # fmt: skip


def calibrate_score(scores, labels, *, seed: int = 0) -> dict:
    """Fit P(churn) = logistic(a + b·score) for a rule score (Platt scaling), to compare probabilities fairly."""
    x, y = np.array(scores, dtype=float).reshape(-1, 1), np.array(labels, dtype=bool)
    model = _regression(1e6, seed).fit(x, y)
    return {"a": float(model.intercept_[0]), "b": float(model.coef_[0][0])}

