"""CLI commands for churn: ``train churn``, ``promote churn`` and ``score``."""

from __future__ import annotations

import json
import logging

from forecasting.cli import (
    add_command, add_engine_options, add_read_options, read_options, spark_tables,
)
from forecasting.cutoff import Cutoff
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting.cli.churn")


def register(commands, train, promote) -> None:
    p = add_command(
        train, "churn", help="train the churn model (time-based from a data set, or --table)",
        description=(
            "Two modes.\n\n"
            "Candidates: recency alone (time mode), logistic regression plain and with "
            "splines, LightGBM with library defaults, LightGBM tuned by a seeded search "
            "(--trials settings, early stopping), and a blend of the best tree and logistic "
            "ones. Each is fitted on training rows, calibrated, and judged on validation rows "
            "only; the lowest validation log loss wins, and among the candidates within one "
            "standard error of it the smallest is the model.\n\n"
            "DATA_DIR (time-based): features as of several monthly cutoffs, each labelled by "
            "its own window (cutoff, cutoff + horizon]. The holdout is the latest cutoff whose "
            "label window is complete (last order day - horizon); the validation cutoff is one "
            "horizon before it, the training cutoffs at least one horizon before that (no "
            "training label overlaps the validation labels). The chosen candidate is refitted "
            "on training + validation rows. Never a random split. Metrics holdout_roc_auc, "
            "holdout_pr_auc, holdout_brier (with _lo95/_hi95 bootstrap intervals), "
            "holdout_log_loss, holdout_lift_top_decile, holdout_recent90_roc_auc and "
            "holdout_recent90_lift_top_decile (customers who bought in the last 90 days), "
            "every candidate's candidate_<name>_valid_log_loss and candidate_<name>_holdout_*, "
            "and the baselines (recency alone, logistic regression, LightGBM defaults) "
            "prefixed baseline_<name>_. Registered as model 'churn'.\n\n"
            "--table FILE --label COL: a labelled snapshot (CRM export, one row per customer); "
            "numeric and text columns become features, labels may be 1/0, yes/no, true/false. "
            "Stratified K-fold CV of the whole procedure (inside each outer fold the "
            "candidates are compared on an inner validation split): cv_roc_auc, cv_brier, "
            "... with _std over folds and bootstrap _lo95/_hi95; then the same choice on all "
            "rows. Registered as model 'churn_table' (its features differ from the data-set "
            "model).\n\nEvery run is tracked in MLflow (experiment 'churn'); the new version "
            "gets the alias 'challenger'. Then run 'forecasting promote churn'."))
    p.add_argument("data_dir", nargs="?", metavar="DATA_DIR",
                   help="data set folder (orders, customers, complaints, surveys, ...)")
    p.add_argument("--table", metavar="FILE", help="labelled snapshot (CSV or Parquet)")
    p.add_argument("--label", metavar="COL", help="--table: the churn label column")
    p.add_argument("--id-col", metavar="COL", help="--table: customer id column (not a feature)")
    p.add_argument("--config", metavar="TOML",
                   help="settings file (see training/churn.toml); options below override it")
    p.add_argument("--cv", type=int, metavar="K", help="--table: CV folds (default 5)")
    p.add_argument("--horizon-days", type=int,
                   help="churn = no completed order within this many days after the cutoff "
                        "(default 90)")
    p.add_argument("--lookback-days", type=int,
                   help="active customers have an order in this many days before a cutoff "
                        "(default 365)")
    p.add_argument("--n-cutoffs", type=int, help="training cutoffs (default 6)")
    p.add_argument("--n-validation-cutoffs", type=int,
                   help="validation cutoffs, the latest whose label windows end before the "
                        "holdout (default 1)")
    p.add_argument("--cutoff-step-days", type=int, help="days between cutoffs (default 30)")
    p.add_argument("--candidates", metavar="NAMES",
                   help="comma-separated subset of recency, logreg, logreg_splines, "
                        "lgbm_default, lgbm_tuned, blend (default: all)")
    p.add_argument("--trials", type=int, metavar="N",
                   help="settings tried by the LightGBM search (default 40; fewer is faster)")
    p.add_argument("--calibration", choices=["auto", "none", "sigmoid", "isotonic"],
                   help="auto (default) = the lowest cross-fitted log loss on validation rows")
    p.add_argument("--bands",
                   help="risk-band thresholds stored with the model (default 0.3,0.6)")
    p.add_argument("--seed", type=int, help="random seed (default 0)")
    p.add_argument("--model-name", default=None,
                   help="registered model name (default churn, or churn_table with --table)")
    p.add_argument("--report", metavar="FILE", help="write the run's metrics as JSON")
    p.add_argument("--no-track", action="store_true",
                   help="do not log to MLflow (metrics and report only)")
    add_read_options(p)
    p.set_defaults(handler=_train)

    p = add_command(
        promote, "churn", help="make the churn challenger champion if no worse",
        description="Move the alias 'champion' of the churn model to the challenger (or the "
                    "version of --run-id) only when, on the same holdout data (equal holdout "
                    "fingerprints), its ROC AUC is at least and its Brier score at most the "
                    "champion's. The first model becomes champion. Prints why it did or did "
                    "not promote.")
    p.add_argument("--run-id", help="promote the version registered by this run")
    p.add_argument("--model-name", default="churn", help="churn or churn_table")
    p.add_argument("--force", action="store_true",
                   help="compare even when the holdout data differ")
    p.set_defaults(handler=_promote)

    p = add_command(
        commands, "score", help="churn scores with reasons, from the champion model",
        description="Score every customer with an order in the model's lookback before "
                    "--as-of with the champion churn model: customer_id, churn_probability, "
                    "risk_band (low/medium/high), reason_1..3 (text), reasons (structured: "
                    "feature, value, contribution, text) and model_version. The output format "
                    "follows --out (.csv, .parquet: reasons as JSON text; .json: as lists).")
    p.add_argument("data_dir", metavar="DATA_DIR", help="data set folder")
    p.add_argument("--as-of", required=True, type=Cutoff.parse, help="cutoff date of the features (YYYY-MM-DD)")
    p.add_argument("--out", required=True, help="output file (.csv, .parquet or .json)")
    p.add_argument("--bands", default=None,
                   help="risk-band thresholds, e.g. 0.3,0.6 (default: stored in the model)")
    p.add_argument("--model-name", default="churn", help="registered model to use")
    p.add_argument("--alias", default="champion", help="alias of the version to use")
    add_read_options(p)
    add_engine_options(p)
    p.set_defaults(handler=_score)


def _config(args):
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.churn.config import load_config, parse_bands

    return load_config(
        args.config, horizon_days=args.horizon_days, lookback_days=args.lookback_days,
        n_cutoffs=args.n_cutoffs, cutoff_step_days=args.cutoff_step_days,
        n_validation_cutoffs=args.n_validation_cutoffs, trials=args.trials,
        candidates=(tuple(c.strip() for c in args.candidates.split(",") if c.strip())
                    if args.candidates else None),
        calibration=args.calibration, cv_folds=args.cv, seed=args.seed,
        bands=parse_bands(args.bands) if args.bands else None)


def _metrics_table(metrics: dict[str, float], scope: str) -> str:
    """Model and baselines side by side: one row per model, one column per metric."""
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    import pandas as pd

    rows = {}
    for key, value in metrics.items():
        head, sep, metric = key.partition(f"{scope}_")
        if not sep:
            continue
        name = head.rstrip("_") or "model"
        if not name.startswith("candidate_"):  # candidates: see _candidates_text
            rows.setdefault(name, {})[metric] = value
    table = pd.DataFrame(rows).T
    cols = [c for c in ("roc_auc", "pr_auc", "brier", "log_loss", "lift_top_decile",
                        "base_rate") if c in table]
    return table[cols].to_string(float_format=lambda v: f"{v:.4f}")


def _candidates_text(result) -> str:
    """Every candidate's validation and holdout / CV figures, the choice and why."""
    t = result.candidates.set_index("candidate")
    m = result.metrics
    scope = "holdout" if result.mode == "time" else "cv"
    lines = [t.to_string(float_format=lambda v: f"{v:.4f}"),
             f"chosen: {result.params.get('chosen_candidate')} -- "
             f"{result.params.get('choice_reason')}"]
    if f"{scope}_roc_auc_lo95" in m:
        lines.append(
            f"{scope} ROC AUC {m[f'{scope}_roc_auc']:.4f} (95% bootstrap "
            f"{m[f'{scope}_roc_auc_lo95']:.4f}-{m[f'{scope}_roc_auc_hi95']:.4f}), Brier "
            f"{m[f'{scope}_brier']:.4f} ({m[f'{scope}_brier_lo95']:.4f}-"
            f"{m[f'{scope}_brier_hi95']:.4f})")
    if "holdout_recent90_roc_auc" in m:
        lines.append(f"customers who bought in the last 90 days "
                     f"({m['holdout_recent90_rows']:,.0f}): ROC AUC "
                     f"{m['holdout_recent90_roc_auc']:.4f}, top-decile lift "
                     f"{m['holdout_recent90_lift_top_decile']:.2f}")
    return "\n".join(lines)


def _train(args) -> int:
    config = _config(args)
    if args.table:
        if args.data_dir:
            raise ForecastingError("give either DATA_DIR or --table FILE, not both")
        if not args.label:
            raise ForecastingError("--table needs --label COL: the column saying who churned")
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.churn.config import TABLE_MODEL_NAME
        from forecasting.churn.table_mode import load_table, train_table

        table = load_table(args.table, args.label, args.id_col)
        result = train_table(table, config, progress=True)
        example = table.X.head(5)
        scope, name = "cv", args.model_name or TABLE_MODEL_NAME
    elif args.data_dir:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.churn.config import MODEL_NAME
        from forecasting.churn.pipeline import train_time_based
        from forecasting.io import read_dataset

        data = read_dataset(args.data_dir, options=read_options(args))
        result = train_time_based(data, config, progress=True)
        example = None
        scope, name = "holdout", args.model_name or MODEL_NAME
    else:
        raise ForecastingError("give a data set folder DATA_DIR, or --table FILE --label COL")
    print(_metrics_table(result.metrics, scope))
    print(_candidates_text(result))
    report = {"metrics": result.metrics, "params": result.params, "model_name": name,
              "chosen_candidate": result.params.get("chosen_candidate"),
              "choice_reason": result.params.get("choice_reason"),
              "candidates": result.candidates.to_dict("records")
              if result.candidates is not None else []}
    if not args.no_track:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.churn.track import log_training

        if example is None:
            example = _time_example(data, result)
        logged = log_training(result, name, example)
        report |= {"run_id": logged.run_id, "model_version": logged.version}
        print(f"run {logged.run_id}: {name} version {logged.version} is the challenger; "
              f"next: forecasting promote churn"
              + (f" --model-name {name}" if name != "churn" else ""))
    if args.report:
        # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
        from forecasting.io import write_json

        write_json(report, args.report)
        log.info("report written to %s", args.report)
    return 0


def _time_example(data, result):
    """Five holdout-cutoff feature rows as the model's input example."""
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.features import build_features

    cutoff = result.params["holdout_cutoff"]
    lookback = result.model.config["lookback_days"]
    feats = build_features(data, cutoff, lookback_days=lookback)
    return feats.head(5).reset_index()


def _promote(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting import tracking
    from forecasting.churn.gate import make_decide

    result = tracking.promote(args.model_name, make_decide(force=args.force),
                              run_id=args.run_id)
    print(result.reason)
    champion = tracking.get_version(args.model_name, tracking.CHAMPION)
    if champion is not None:
        print(f"champion: {args.model_name} version {champion.version}")
    return 0


def _score(args) -> int:
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.churn.config import parse_bands
    from forecasting.churn.score import load_champion, score_customers
    from forecasting.io import read_dataset, write_table

    bands = parse_bands(args.bands) if args.bands else None
    model = load_champion(args.model_name, args.alias)
    if args.engine == "spark":
        return _score_spark(args, model, bands)
    data = read_dataset(args.data_dir, options=read_options(args))
    scores = score_customers(data, args.as_of, model=model, bands=bands)
    if not str(args.out).lower().endswith(".json"):
        scores["reasons"] = [json.dumps(r) for r in scores["reasons"]]
    write_table(scores, args.out)
    counts = scores["risk_band"].value_counts().reindex(["high", "medium", "low"], fill_value=0)
    print(f"scored {len(scores):,} customers as of {args.as_of} with {args.model_name} "
          f"version {model.version}: " + ", ".join(f"{k} {v:,}" for k, v in counts.items())
          + f" -> {args.out}")
    return 0


def _score_spark(args, model, bands) -> int:
    # heavy: pyspark only with --engine spark
    from forecasting.engines import spark as engine

    scores = engine.score(spark_tables(args), args.as_of, model, bands).persist()
    engine.check_active(scores, args.as_of, int(model.config.get("lookback_days", 365)))
    if str(args.out).lower().endswith(".json"):
        from forecasting.io import write_table  # json: reasons as lists, like the local path

        out = engine.to_pandas(scores)
        out["reasons"] = [json.loads(r) for r in out["reasons"]]
        write_table(out, args.out)
    else:
        engine.write(scores, args.out)
    counts = {r["risk_band"]: r["count"] for r in scores.groupBy("risk_band").count().collect()}
    print(f"scored {sum(counts.values()):,} customers as of {args.as_of} with "
          f"{args.model_name} version {model.version} (Spark): "
          + ", ".join(f"{k} {counts.get(k, 0):,}" for k in ("high", "medium", "low"))
          + f" -> {args.out}")
    return 0
