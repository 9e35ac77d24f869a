"""``forecasting refresh``: a new snapshot version made current, which the running API picks up."""

from __future__ import annotations

import logging

from forecasting import settings
from forecasting.cli import add_command, add_engine_options, add_read_options, read_options

log = logging.getLogger("forecasting.cli.refresh")


def register(commands, train, promote) -> None:
    p = add_command(
        commands, "refresh", help="re-score a data set into a new snapshot the API picks up",
        description="Score churn, segment, rank for follow-up, compute KPIs and forecast DATA_DIR "
                    "as of --as-of (default: its last order date) with the champion models, into "
                    "a new snapshot version of the store (FORECASTING_SNAPSHOT_ROOT, default "
                    "models/snapshots). The version is written aside, checked (every table "
                    "reads back with its row count), then named in CURRENT atomically; a "
                    "running API (forecasting serve) loads it within FORECASTING_RELOAD_SECONDS "
                    "or on POST /admin/reload, without a restart. The churn scores and forecasts "
                    "are appended to the store's history; the newest --keep snapshots are kept. "
                    "Two refreshes never overlap (a file lock); a refresh that fails, or is "
                    "killed, leaves the current snapshot serving and exits 1 with the reason.")
    p.add_argument("data_dir", metavar="DATA_DIR", help="data set folder (orders, customers, ...)")
    p.add_argument("--as-of", default=None,
                   help="snapshot date YYYY-MM-DD (default: the last order date in the data)")
    p.add_argument("--keep", type=int, default=10,
                   help="full snapshots kept (the history of every refresh is kept regardless)")
    p.add_argument("--horizon", type=int, default=settings.DEFAULT_HORIZON,
                   help="forecast periods")
    p.add_argument("--freq", default=settings.DEFAULT_FREQ, choices=("W", "MS", "D"),
                   help="forecast frequency")
    p.add_argument("--churn-adjust", action="store_true",
                   help="add yhat_churn_adjusted to the forecasts")
    p.add_argument("--allow-missing", action="store_true",
                   help="publish even when the new snapshot lacks churn scores or forecasts "
                        "that the current one has (no champion model, say)")
    add_read_options(p)
    add_engine_options(p)
    p.set_defaults(handler=_refresh)


def _refresh(args) -> int:
    # heavy: scoring pulls in pandas, LightGBM and MLflow; keeps them off --help
    from forecasting.pipelines.snapshot import refresh

    root = settings.current().snapshot_root
    r = refresh(args.data_dir, as_of=args.as_of, root=root, keep=args.keep,
                horizon=args.horizon, freq=args.freq, options=read_options(args),
                churn_adjust=args.churn_adjust, allow_missing=args.allow_missing,
                engine=args.engine, spark_master=args.spark_master)
    meta = r.meta
    rows = meta.get("rows", {})
    for part, note in meta.get("notes", {}).items():
        log.warning("%s: %s", part, note)
    when = " (the last order date in the data)" if r.as_of_default else ""
    print(f"snapshot {r.snapshot_id} is current: as of {meta['as_of']}{when}; "
          f"{rows.get('churn.parquet', 0)} customers scored (churn model "
          f"{meta.get('churn_model_version') or '-'}), "
          f"{rows.get('customers.parquet', 0)} segmented, "
          f"{rows.get('forecasts.parquet', 0)} forecast rows (demand model "
          f"{meta.get('demand_model_version') or '-'}); {r.seconds:.1f} s; store {root}"
          + (f"; removed {len(r.pruned)} old snapshot(s)" if r.pruned else ""))
    return 0
