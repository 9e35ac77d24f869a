"""The champion gate: a challenger replaces the champion only when it is no worse.

"No worse" means, on the SAME evaluation data (equal holdout fingerprints): ROC AUC at least
the champion's and Brier score at most the champion's. Time-based runs compare
``holdout_roc_auc`` / ``holdout_brier``; ``--table`` runs compare ``cv_roc_auc`` /
``cv_brier``. When the fingerprints differ the metrics are not comparable: no promotion
unless forced.

Example:
    >>> from types import SimpleNamespace as NS
    >>> champ = NS(version="1", metrics={"holdout_roc_auc": 0.80, "holdout_brier": 0.15},
    ...            params={"holdout_fingerprint": "x"}, tags={})
    >>> chall = NS(version="2", metrics={"holdout_roc_auc": 0.78, "holdout_brier": 0.14},
    ...            params={"holdout_fingerprint": "x"}, tags={})
    >>> decide(champ, chall)[0]
    False
"""

from __future__ import annotations

FINGERPRINT = "holdout_fingerprint"


def _pair(ref) -> tuple[str, str]:
    if "holdout_roc_auc" in ref.metrics:
        return "holdout_roc_auc", "holdout_brier"
    return "cv_roc_auc", "cv_brier"


def _fingerprint(ref) -> str | None:
    return ref.params.get(FINGERPRINT) or ref.tags.get(FINGERPRINT)


def make_decide(force: bool = False):
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
        if a1 >= a0 and b1 <= b0:
            return True, (f"{prefix}promoted v{challenger.version}: no worse on both "
                          f"({figures})")
        worse = [w for w, bad in (("ROC AUC lower", a1 < a0), ("Brier higher", b1 > b0)) if bad]
        return False, (f"{prefix}kept champion v{champion.version}: challenger "
                       f"v{challenger.version} is worse ({', '.join(worse)}: {figures})")

    return decide


decide = make_decide()
