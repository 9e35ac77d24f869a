"""``--table`` mode: a labelled snapshot (CRM export), stratified K-fold CV, final fit.

The table has one row per customer, a label column (churned or not) and any number of
numeric and text columns; text becomes categories, missing values are handled by the
models. Labels accepted: 1/0, yes/no, y/n, true/false, churn(ed)/stay(ed)/retained.

Example:
    >>> import pandas as pd
    >>> t = prepare_table(pd.DataFrame({"id": ["a", "b", "c"], "spend": ["1.5", "", "3"],
    ...                                 "left": ["Yes", "no", "YES"]}), "left", "id")
    >>> t.y.tolist(), t.X.dtypes["spend"].kind, t.ids.tolist()
    ([1, 0, 1], 'f', ['a', 'b', 'c'])
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold
from tqdm.auto import tqdm

from forecasting.churn.config import ChurnConfig
from forecasting.churn.estimators import DefaultLightGBM, LogisticChurn
from forecasting.churn.metrics import (
    churn_metrics, interval_metrics, mean_over_folds, prefixed,
)
from forecasting.churn.model import ChurnModel
from forecasting.churn.pipeline import Rows, TrainResult, evaluate_candidates, selection_params
from forecasting.errors import DataError, ForecastingError, Problem
from forecasting.schema import CUSTOMER_ID
from forecasting.io import read_table

log = logging.getLogger(__name__)

POSITIVE = {"1", "1.0", "yes", "y", "true", "t", "churn", "churned", "left"}
NEGATIVE = {"0", "0.0", "no", "n", "false", "f", "stay", "stayed", "retained", "active"}


@dataclass
class LabelledTable:
    """Features, 0/1 labels and ids of a labelled snapshot, plus what was changed."""

    X: pd.DataFrame
    y: np.ndarray
    ids: pd.Series
    name: str = "table"
    notes: list[str] = field(default_factory=list)
    id_column: str | None = None

    def fingerprint(self) -> str:
        """Rows + hash of ids and labels: two runs on the same table share it."""
        h = hashlib.sha1()
        h.update("\n".join(self.ids.astype(str)).encode())
        h.update(self.y.astype(np.int8).tobytes())
        return f"table:{self.name}|rows={len(self.y)}|{h.hexdigest()[:12]}"


def _problem(table: str, column: str | None, rule: str, count: int, message: str, fix: str,
             rows: list | None = None) -> Problem:
    return Problem(table=table, column=column, rule=rule, count=count, message=message,
                   fix=fix, rows=rows or [])


def parse_labels(values: pd.Series, table: str, column: str) -> np.ndarray:
    """0/1 labels from yes/no-like values; every row must have a recognised label."""
    text = values.astype("object").map(lambda v: None if pd.isna(v) else str(v).strip().lower())
    missing = text.isna() | (text == "")
    problems = []
    if missing.any():
        rows = [{"row": int(i)} for i in np.flatnonzero(missing.to_numpy())[:5]]
        problems.append(_problem(table, column, "missing label", int(missing.sum()),
                                 "rows without a label", "fill the label or drop those rows",
                                 rows))
    known = text.isin(POSITIVE | NEGATIVE) | missing
    if not known.all():
        bad = values[~known]
        problems.append(_problem(
            table, column, "unknown label value", int((~known).sum()),
            f"values {sorted(bad.astype(str).unique().tolist())[:5]} are not churn labels",
            "use 1/0, yes/no or true/false (1/yes/true = churned)",
            [{"row": int(i), column: str(v)} for i, v in bad.head(5).items()]))
    if problems:
        raise DataError(problems, context=f"{table}: label column {column!r}")
    y = text.isin(POSITIVE).to_numpy().astype(int)
    if len(np.unique(y)) < 2:
        only = values.iloc[0]
        raise ForecastingError(
            f"{table}: label column {column!r} has only one class ({only!r} in all "
            f"{len(y)} rows): a churn model needs churned and retained customers")
    return y


def _to_numeric_if_possible(s: pd.Series) -> pd.Series:
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
        return s.astype("float64")
    parsed = pd.to_numeric(s, errors="coerce")
    if parsed.notna().sum() == s.notna().sum():
        return parsed.astype("float64")
    return s.astype("object")


def prepare_table(df: pd.DataFrame, label: str, id_col: str | None = None,
                  name: str = "table") -> LabelledTable:
    """Check and type a labelled snapshot; raises DataError naming every problem.

    Does not modify ``df``.
    """
    problems = []
    if label not in df.columns:
        problems.append(_problem(
            name, label, "missing label column", len(df),
            f"no column {label!r}; columns are {list(df.columns)[:20]}",
            "pass the name of the churn column with --label"))
    if id_col is not None and id_col not in df.columns:
        problems.append(_problem(
            name, id_col, "unknown id column", len(df),
            f"no column {id_col!r}; columns are {list(df.columns)[:20]}",
            "pass an existing column with --id-col, or leave --id-col out"))
    if problems:
        raise DataError(problems, context=name)
    y = parse_labels(df[label], name, label)
    ids = (df[id_col].astype(str) if id_col else pd.Series(np.arange(len(df)).astype(str)))
    ids = ids.reset_index(drop=True)
    features = df.drop(columns=[c for c in (label, id_col) if c is not None])
    notes: list[str] = []
    all_null = [c for c in features.columns if features[c].isna().all()
                or (features[c].astype(str).str.strip() == "").all()]
    if all_null:
        raise DataError([_problem(
            name, c, "all values missing", len(df), "the column has no value in any row",
            "drop the column or fill it") for c in all_null], context=name)
    out = {}
    for c in features.columns:
        s = features[c].reset_index(drop=True)
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            s = s.astype("object").where(s.notna() & (s.astype(str).str.strip() != ""), None)
        s = _to_numeric_if_possible(s)
        if s.dtype == object and s.nunique() == s.notna().sum() and len(s) > 20:
            notes.append(f"column {c!r} dropped: text with a different value in every row "
                         "(an identifier, not a feature)")
            log.warning("%s", notes[-1])
            continue
        out[str(c)] = s
    if not out:
        raise ForecastingError(f"{name}: no feature columns besides the label and id")
    return LabelledTable(X=pd.DataFrame(out), y=y, ids=ids, name=name, notes=notes,
                         id_column=id_col)


def load_table(path: str | Path, label: str, id_col: str | None = None) -> LabelledTable:
    return prepare_table(read_table(path), label, id_col, name=Path(path).name)


def baselines() -> dict[str, object]:
    """Baselines reported beside the model, under these metric prefixes."""
    return {"baseline_logreg": LogisticChurn(), "baseline_lgbm_default": DefaultLightGBM()}


@dataclass
class CVResult:
    metrics: dict[str, float]  # cv_roc_auc, cv_roc_auc_std, ..., baseline_logreg_cv_roc_auc, ...
    per_fold: dict[str, list[dict[str, float]]]
    oof: dict[str, np.ndarray]  # out-of-fold probabilities per model
    choices: list[str] = field(default_factory=list)  # the candidate chosen in each fold
    candidates: pd.DataFrame | None = None  # every candidate: validation and CV figures


def cross_validate(table: LabelledTable, config: ChurnConfig,
                   with_baselines: bool = True, progress: bool = False) -> CVResult:
    """Stratified K-fold CV of the whole procedure: in each outer fold the candidates are
    judged by their out-of-fold predictions over inner folds of the outer training part,
    fitted on all of it, and scored on the outer test fold (which nothing else sees).

    Reports the model (whatever each fold chose), every candidate and the baselines.
    """
    k = config.cv_folds
    smallest = int(np.bincount(table.y).min())
    if smallest < k:
        raise ForecastingError(
            f"{table.name}: --cv {k} needs at least {k} rows of each class; the smaller "
            f"class has {smallest}")
    y = table.y
    per_fold: dict[str, list] = {"model": []}
    oof: dict[str, np.ndarray] = {"model": np.zeros(len(y))}
    valid_scores: dict[str, list[tuple[float, float]]] = {}
    choices = []
    folds = StratifiedKFold(k, shuffle=True, random_state=config.seed).split(table.X, y)
    for train, test in tqdm(list(folds), desc="cv folds", disable=not progress):
        Xtr, Xte = table.X.iloc[train], table.X.iloc[test]
        outer = Rows(Xtr, y[train], np.zeros(len(train)))
        fit = evaluate_candidates(None, None, outer, Xte, config)
        choices.append(fit.selection.chosen)
        probas = {"model": fit.proba[fit.selection.chosen]}
        probas |= {f"candidate_{n}": p for n, p in fit.proba.items()}
        for n, c in fit.selection.candidates.items():
            valid_scores.setdefault(n, []).append((c.valid_log_loss, c.valid_roc_auc))
        if with_baselines:
            for prefix, est in baselines().items():
                probas[prefix] = est.clone().fit(Xtr, y[train]).predict_proba(Xte)[:, 1]
        for name, p in probas.items():
            oof.setdefault(name, np.zeros(len(y)))[test] = p
            per_fold.setdefault(name, []).append(churn_metrics(y[test], p))
    metrics = fold_summary(per_fold["model"], "cv")
    metrics |= interval_metrics(y, oof["model"], "cv")
    for name in per_fold:
        if name != "model":
            metrics |= prefixed(mean_over_folds(per_fold[name]), f"{name}_cv")
    for n, scores in valid_scores.items():
        metrics[f"candidate_{n}_valid_log_loss"] = float(np.mean([s[0] for s in scores]))
        metrics[f"candidate_{n}_valid_roc_auc"] = float(np.mean([s[1] for s in scores]))
    table_ = pd.DataFrame([{
        "candidate": n, "valid_log_loss": metrics[f"candidate_{n}_valid_log_loss"],
        "valid_roc_auc": metrics[f"candidate_{n}_valid_roc_auc"],
        "chosen_in_folds": choices.count(n),
        **{f"cv_{m}": metrics.get(f"candidate_{n}_cv_{m}")
           for m in ("roc_auc", "pr_auc", "brier", "log_loss")}} for n in valid_scores])
    return CVResult(metrics=metrics, per_fold=per_fold, oof=oof, choices=choices,
                    candidates=table_)


def fold_summary(per_fold: list[dict[str, float]], prefix: str) -> dict[str, float]:
    """Mean of each metric over the folds and its spread: ``<prefix>_<m>``, ``_<m>_std``."""
    out = prefixed(mean_over_folds(per_fold), prefix)
    for m in per_fold[0]:
        out[f"{prefix}_{m}_std"] = float(np.nanstd([f[m] for f in per_fold], ddof=1))
    return out


def train_table(table: LabelledTable, config: ChurnConfig, progress: bool = False):
    """CV metrics (the procedure, every candidate, the baselines), then the same choice on
    every row: candidates fitted on an inner split, chosen on its validation part, the chosen
    one refitted on every row.

    Returns a :class:`forecasting.churn.pipeline.TrainResult` whose "holdout" arrays are the
    out-of-fold CV probabilities (the plots and the gate use them).
    """
    cv = cross_validate(table, config, progress=progress)
    everything = Rows(table.X, table.y, np.zeros(len(table.y)))
    fit = evaluate_candidates(None, None, everything, None, config, progress=progress)
    fingerprint = table.fingerprint()
    params = {
        "mode": "table", "config": config.to_dict(), "table": table.name,
        "rows": len(table.y), "base_rate": round(float(table.y.mean()), 4),
        "n_features": table.X.shape[1], "holdout_fingerprint": fingerprint,
        "notes": "; ".join(table.notes) or "-", "fold_choices": ",".join(cv.choices),
        **selection_params(fit.selection, fit.final),
    }
    info = {"holdout_fingerprint": fingerprint, "rows": len(table.y), "metrics": cv.metrics,
            "chosen_candidate": fit.selection.chosen, "choice_reason": fit.selection.reason}
    model = ChurnModel(fit.final, list(table.X.columns), config.to_dict(), kind="table",
                       info=info, id_column=table.id_column or CUSTOMER_ID)
    candidates = cv.candidates.merge(
        fit.selection.table()[["candidate", "size", "calibration", "chosen"]]
        .rename(columns={"chosen": "chosen_on_all_rows"}), on="candidate", how="left")
    return TrainResult(model=model, metrics=cv.metrics, params=params, y_holdout=table.y,
                       proba_holdout=cv.oof, fingerprint=fingerprint, mode="table",
                       notes=list(table.notes), ids_holdout=table.ids.to_numpy(),
                       candidates=candidates)
