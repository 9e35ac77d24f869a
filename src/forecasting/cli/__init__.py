"""The ``forecasting`` command line: one thin command per stage.

Every module in this package that defines ``register(commands, train, promote)`` adds its
commands: ``commands`` is the top-level subparser set, ``train`` and ``promote`` those of
``forecasting train`` and ``forecasting promote``. Commands import heavy libraries inside
their handler so that ``--help`` stays fast. A handler returns the exit code.

Errors the user can fix (:class:`forecasting.errors.ForecastingError`) become a message and
exit code 1; no traceback is shown unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from forecasting import __version__
from forecasting.engines import DEFAULT_ENGINE, DEFAULT_SPARK_MASTER, ENGINES
from forecasting.errors import ForecastingError

log = logging.getLogger("forecasting")

EPILOG = """\
Stages, in the order a data set goes through them:
  sample / import   make or convert a data set (a folder of tables)
  validate          check it against the data contract
  features          customer features as of a date
  train / promote   fit churn or demand models, tracked in MLflow; move the champion alias
  score / forecast / plan / segments / kpis   use the champion models
  refresh           re-score into a new snapshot version; a running API picks it up
  serve / demo      the HTTP API; demo runs everything on sample data, then serves
  monitor           drift and realised performance of past refreshes (PSI, ROC AUC, WAPE)

MLflow: MLFLOW_TRACKING_URI when set, else a SQLite store under ./models.
Run 'forecasting COMMAND --help' for the options of each command.
"""


class _Formatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forecasting",
        description="Churn risk, demand forecasts, production plans and customer KPIs.",
        epilog=EPILOG,
        formatter_class=_Formatter,
    )
    parser.add_argument("--version", action="version", version=f"forecasting {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    parser.add_argument("-q", "--quiet", action="store_true", help="log warnings and errors only")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (for bug reports)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    train = commands.add_parser(
        "train", help="train churn or demand models (tracked in MLflow)",
        description="Train a model family; the new version gets the alias 'challenger'.",
        formatter_class=_Formatter,
    ).add_subparsers(dest="family", metavar="FAMILY", required=True)
    promote = commands.add_parser(
        "promote", help="move the 'champion' alias to the challenger if it is no worse",
        description="Compare the challenger with the champion on the same holdout and move "
                    "'champion' only when the challenger is no worse.",
        formatter_class=_Formatter,
    ).add_subparsers(dest="family", metavar="FAMILY", required=True)
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(commands, train, promote)
    return parser


def add_command(commands, name: str, help: str, description: str | None = None,
                ) -> argparse.ArgumentParser:
    """A subcommand parser with the project's help formatting."""
    return commands.add_parser(name, help=help, description=description or help,
                               formatter_class=_Formatter)


READ_HELP = """\
How the files of DATA_DIR are written (CSV, .xlsx first sheet, Parquet). Each option is
detected per file (dates: per column) when not given, and the validate summary says what was
used. Dates: one format per column; a column whose values need two formats, or whose every
value reads both day-first and month-first (no day above 12), is an error asking for
--date-format, never a guess. A given --date-format applies to every date column that is not
written entirely in ISO (YYYY-MM-DD)."""


_READ_OPTIONS = (  # flag, metavar, help (each names its own default)
    ("--encoding", "NAME", "text encoding of CSV files, e.g. utf-8, gb18030 (GBK), cp1252 "
                           "(default: a BOM, else UTF-8, else GB18030 or Windows-1252)"),
    ("--sep", "CHAR", "CSV delimiter: ',' ';' '|' or tab (default: detected from the first "
                      "lines)"),
    ("--decimal", "{.|,}", "decimal separator of numbers (default: ',' when the number "
                           "columns hold decimal commas and no dot)"),
    ("--date-format", "FORMAT", "iso (2024-01-31, 2024/1/31), dayfirst (31/01/2024, "
                                "31.01.2024), monthfirst (01/31/2024) or a strptime pattern "
                                "like %%d.%%m.%%Y (default: detected per column)"),
    ("--columns", "FILE", "TOML file mapping your column names to the contract's, one table "
                          "each: [orders] then \"订单号\" = \"order_id\""),
)


def add_read_options(parser: argparse.ArgumentParser) -> None:
    """The options of every command that reads DATA_DIR; :func:`read_options` reads them."""
    g = parser.add_argument_group("reading DATA_DIR", READ_HELP)
    for flag, metavar, text in _READ_OPTIONS:
        # "%(default).0s" prints nothing and keeps the formatter from adding "(default: None)"
        g.add_argument(flag, default=None, metavar=metavar, help=text + "%(default).0s")


def read_options(args: argparse.Namespace):
    """The :class:`forecasting.io.ReadOptions` of a command built with add_read_options."""
    # imported when the command runs: keeps pandas, lightgbm and mlflow off 'forecasting --help'
    from forecasting.io import ReadOptions

    return ReadOptions.from_strings(encoding=args.encoding, sep=args.sep, decimal=args.decimal,
                                    date_format=args.date_format, columns=args.columns)


ENGINE_HELP = """\
local: one pandas process (default). spark: the same code on Spark, per-customer work in
customer-hash buckets and per-series demand models in series-hash buckets; global steps
(validation of keys, quintile cut points, churn rates, pooled and global demand models, the
model choice, interval calibration) once over all data; inputs may then be Parquet or CSV
folders of part files, and --out x.parquet is written as a folder of parts (x.csv as one
file). Needs the 'spark' extra and Java 17."""


def add_engine_options(parser: argparse.ArgumentParser) -> None:
    """``--engine`` and ``--spark-master``; :func:`spark_tables` reads DATA_DIR with them."""
    g = parser.add_argument_group("engine", ENGINE_HELP)
    g.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE,
                   help="where the work runs")
    g.add_argument("--spark-master", default=DEFAULT_SPARK_MASTER, metavar="URL",
                   help="--engine spark: the Spark master (local[N], yarn, spark://host:7077, "
                        "k8s://...); ignored when a session already runs (spark-submit)")


def spark_tables(args: argparse.Namespace):
    """The validated tables of DATA_DIR as Spark DataFrames (``--engine spark``)."""
    # heavy: pyspark (and a JVM) only when --engine spark is asked for
    from forecasting.engines.spark_data import read_tables, spark_session

    spark = spark_session(args.spark_master)
    return read_tables(args.data_dir, spark, options=read_options(args))


def setup_logging(verbose: bool = False, quiet: bool = False) -> None:
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr, force=True)
    for noisy in ("mlflow", "alembic", "urllib3", "matplotlib", "bentoml", "httpx"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose, args.quiet)
    try:
        return int(args.handler(args) or 0)
    except ForecastingError as exc:
        if args.debug:
            log.exception("error")
        log.error("%s", exc)
        return 1
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130
    except Exception as exc:  # a bug, not bad input: keep the message short, offer --debug
        if args.debug:
            raise
        log.error("unexpected error: %s: %s (run with --debug for the traceback; "
                  "please report it)", type(exc).__name__, exc)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
