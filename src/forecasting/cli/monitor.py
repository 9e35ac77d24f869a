"""``forecasting monitor``: drift and realised performance of the refreshes."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from forecasting.cli import add_command, add_read_options, read_options

log = logging.getLogger("forecasting.cli.monitor")

DESCRIPTION = """\
Check the latest refreshes recorded in the snapshot store (FORECASTING_SNAPSHOT_ROOT, default
models/snapshots; written by 'forecasting refresh') against DATA_DIR, the data as they are now.

Drift, per refresh: psi_score (population stability index of the churn probabilities against
the model's holdout probabilities saved at training) and psi_<feature> (each churn feature of
the scored customers, rebuilt from DATA_DIR as of the refresh's date, against the training
rows). PSI below 0.1 is stable, 0.1-0.25 a moderate shift, above 0.25 a large one: retrain,
and look at the features that moved.

Realised performance, once a refresh's label window (as-of + the churn model's horizon, 90
days by default) lies inside DATA_DIR: its scores joined with what happened (the training
label definition): realised_roc_auc, realised_brier, realised_lift_top_decile and a
calibration table, compared with the model's holdout interval; and for forecasts
realised_wape, realised_bias and interval coverage per horizon step. A warning says when the
serving model was trained on labels overlapping the refresh's outcome window (its realised
figures are then optimistic).

Each refresh's figures are logged to MLflow (experiment 'monitoring', tagged with the
snapshot and the model version that served it), and the latest ones written to
<store>/monitor/latest.json, which the running API publishes on /metrics. Exit code 0 when
no threshold is crossed, 3 when a finding asks for action (retrain), 1 on an error."""


def register(commands, train, promote) -> None:
    p = add_command(commands, "monitor",
                    help="drift and realised performance of the refreshes (PSI, ROC AUC, WAPE)",
                    description=DESCRIPTION)
    p.add_argument("data_dir", metavar="DATA_DIR", help="the data set as it is now")
    p.add_argument("--store", default=None, metavar="DIR",
                   help="snapshot store folder (default: FORECASTING_SNAPSHOT_ROOT or "
                        "models/snapshots)%(default).0s")
    p.add_argument("--last", type=int, default=12, metavar="N",
                   help="how many of the latest refreshes to check (0 = all)")
    p.add_argument("--report", metavar="FILE", help="write the full report as JSON%(default).0s")
    p.add_argument("--plots", metavar="DIR", help="write PNG figures into this folder%(default).0s")
    p.add_argument("--no-track", action="store_true",
                   help="do not log the figures to MLflow%(default).0s")
    add_read_options(p)
    p.set_defaults(handler=_monitor)


def _monitor(args) -> int:
    # heavy: pandas, features and MLflow stay off the start-up path of the other commands
    from forecasting.io import write_json
    from forecasting.monitoring import report as R

    report = R.monitor(args.data_dir, store=args.store, last=args.last,
                       options=read_options(args), track=not args.no_track)
    print(R.summary_text(report))
    if args.report:
        write_json(R.jsonable(report), args.report)
        log.info("report written to %s", args.report)
    if args.plots:
        _plots(report, args.plots)
    log.debug("gauges: %s", json.dumps(report["gauges"]))
    return 3 if any(f["level"] == "action" for f in report["findings"]) else 0


def _plots(report: dict, folder: str) -> None:
    # heavy: matplotlib only when figures are asked for
    from forecasting.monitoring import plots, store
    from forecasting.monitoring.report import churn_model_info

    cache: dict = {}
    references, scores = {}, {}
    by_id = {r.snapshot_id: r for r in store.refreshes(Path(report["store"]))}
    for sec in report["refreshes"]:
        churn = sec.get("churn") or {}
        version = churn.get("model_version")
        if version:
            info = churn_model_info(str(version), cache)
            if info is not None and info.reference is not None:
                references[str(version)] = info.reference
        ref = by_id.get(sec["snapshot_id"])
        if ref is not None and ref.scores is not None:
            scores[sec["snapshot_id"]] = store.read_scores(ref)["churn_probability"]
    plots.save_figures(report, references, scores, folder)
