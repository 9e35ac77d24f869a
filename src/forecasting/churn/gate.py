"""The champion gate: a challenger replaces the champion unless it is worse beyond the noise.

Rule, on the SAME evaluation rows (equal holdout fingerprints; time runs compare holdout
rows, ``--table`` runs out-of-fold CV rows): both versions' per-row probabilities (logged as
``holdout_predictions.parquet``) are resampled together 2,000 times (paired bootstrap), giving
95 % intervals of the differences challenger - champion in ROC AUC and Brier score. The
challenger is promoted when it is not worse beyond the noise on either: the ROC AUC interval
reaches 0 or above AND the Brier interval reaches 0 or below. Versions logged without
predictions fall back to the point figures (ROC AUC at least, Brier at most the champion's).
When the fingerprints differ the figures are not comparable: no promotion unless forced
(then the point figures decide).

Example:
    >>> from types import SimpleNamespace as NS
    >>> champ = NS(version="1", run_id=None, metrics={"holdout_roc_auc": 0.80,
    ...            "holdout_brier": 0.15}, params={"holdout_fingerprint": "x"}, tags={})
    >>> chall = NS(version="2", run_id=None, metrics={"holdout_roc_auc": 0.78,
    ...            "holdout_brier": 0.14}, params={"holdout_fingerprint": "x"}, tags={})
    >>> decide(champ, chall)[0]
    False
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pandas as pd

from forecasting.churn.metrics import paired_bootstrap

log = logging.getLogger(__name__)

FINGERPRINT = "holdout_fingerprint"
PREDICTIONS = "holdout_predictions.parquet"
N_BOOT = 2000


def _pair(ref) -> tuple[str, str]:
    if "holdout_roc_auc" in ref.metrics:
        return "holdout_roc_auc", "holdout_brier"
    return "cv_roc_auc", "cv_brier"


def _fingerprint(ref) -> str | None:
    return ref.params.get(FINGERPRINT) or ref.tags.get(FINGERPRINT)


def load_run_predictions(run_id: str | None) -> pd.DataFrame | None:
    """The holdout predictions a training run logged, or None (older runs have none)."""
    if not run_id:
        return None
    from forecasting import tracking  # local: keeps MLflow off the doctest's import path
    from forecasting.io import read_table

    try:
        return read_table(tracking.download_artifact(run_id, PREDICTIONS))
    except Exception as exc:  # noqa: BLE001 -- any failure means "no paired predictions"
        log.info("run %s has no usable %s (%s)", run_id, PREDICTIONS, type(exc).__name__)
        return None


def paired_comparison(champion: pd.DataFrame, challenger: pd.DataFrame
                      ) -> dict[str, tuple[float, float, float]] | None:
    """Paired bootstrap differences (challenger - champion) on the rows both predicted, or
    None when the rows or labels do not match."""
    merged = champion.merge(challenger, on="row_id", suffixes=("_a", "_b"))
    if (len(merged) != len(champion) or len(merged) != len(challenger)
            or not (merged["churned_a"] == merged["churned_b"]).all()):
        return None
    return paired_bootstrap(merged["churned_a"].to_numpy(),
                            merged["churn_probability_a"].to_numpy(),
                            merged["churn_probability_b"].to_numpy(), n_boot=N_BOOT)


def make_decide(force: bool = False,
                load_predictions: Callable[[str | None], pd.DataFrame | None] =
                load_run_predictions):
    """A ``decide(champion, challenger) -> (promote, reason)`` for :func:`tracking.promote`."""

    def decide(champion, challenger) -> tuple[bool, str]:
        fp_champ, fp_chall = _fingerprint(champion), _fingerprint(challenger)
        auc_key, brier_key = _pair(challenger)
        if _pair(champion) != (auc_key, brier_key):
            return False, (f"not comparable: champion v{champion.version} was evaluated by "
                           f"{_pair(champion)[0]}, challenger v{challenger.version} by {auc_key}")
        prefix = ""
        if fp_champ != fp_chall:
            if not force:
                return False, (
                    f"not promoted: champion v{champion.version} and challenger "
                    f"v{challenger.version} were evaluated on different data (fingerprints "
                    f"{fp_champ} vs {fp_chall}); retrain both on the same data or use --force")
            prefix = "forced despite different evaluation data; "
        missing = [k for k in (auc_key, brier_key)
                   if k not in champion.metrics or k not in challenger.metrics]
        if missing:
            return False, f"not promoted: metric(s) {missing} missing on one of the versions"
        a0, a1 = champion.metrics[auc_key], challenger.metrics[auc_key]
        b0, b1 = champion.metrics[brier_key], challenger.metrics[brier_key]
        figures = (f"{auc_key} {a1:.4f} vs champion {a0:.4f}, {brier_key} {b1:.4f} vs "
                   f"champion {b0:.4f}")
        paired = None
        if not prefix:
            pa, pb = load_predictions(champion.run_id), load_predictions(challenger.run_id)
            if pa is not None and pb is not None:
                paired = paired_comparison(pa, pb)
        if paired is not None:
            d_auc, auc_lo, auc_hi = paired["roc_auc"]
            d_brier, brier_lo, brier_hi = paired["brier"]
            figures += (f"; paired bootstrap ({N_BOOT:,} resamples of the same rows), "
                        f"challenger - champion: ROC AUC {d_auc:+.4f} (95% {auc_lo:+.4f} to "
                        f"{auc_hi:+.4f}), Brier {d_brier:+.4f} (95% {brier_lo:+.4f} to "
                        f"{brier_hi:+.4f})")
            worse = [w for w, bad in (("ROC AUC lower beyond the noise", auc_hi < 0),
                                      ("Brier higher beyond the noise", brier_lo > 0)) if bad]
            if not worse:
                return True, (f"promoted v{challenger.version}: not worse beyond the noise "
                              f"({figures})")
            return False, (f"kept champion v{champion.version}: challenger "
                           f"v{challenger.version} is worse ({', '.join(worse)}: {figures})")
        if a1 >= a0 and b1 <= b0:
            return True, (f"{prefix}promoted v{challenger.version}: no worse on both "
                          f"({figures}; no paired predictions, point figures compared)")
        worse = [w for w, bad in (("ROC AUC lower", a1 < a0), ("Brier higher", b1 > b0)) if bad]
        return False, (f"{prefix}kept champion v{champion.version}: challenger "
                       f"v{challenger.version} is worse ({', '.join(worse)}: {figures})")

    return decide


decide = make_decide(load_predictions=lambda run_id: None)
