"""A local[2] Spark session for the Spark engine's tests (skipped with a reason without Java 17
or pyspark), and the sample data set the engines are compared on."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from spark_helpers import NOW

from forecasting.churn.config import ChurnConfig
from forecasting.churn.pipeline import train_time_based
from forecasting.io import read_dataset


def _java_major() -> int | None:
    java = shutil.which("java")
    if java is None:
        return None
    out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    m = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not m:
        return None
    major = int(m.group(1))
    return int(m.group(2)) if major == 1 and m.group(2) else major


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/spark/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.spark)


@pytest.fixture(scope="session")
def spark():
    """One local[2] session for every Spark test: few shuffle partitions, no UI, 1 GB driver."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
    major = _java_major()
    if major is None or major < 17:
        pytest.skip(f"the Spark engine needs Java 17 or later; found "
                    f"{'no java' if major is None else f'Java {major}'} on PATH")
    from forecasting.engines.spark_data import spark_session

    session = spark_session("local[2]", **{"spark.sql.shuffle.partitions": "4",
                                           "spark.default.parallelism": "2",
                                           "spark.ui.enabled": "false",
                                           "spark.driver.memory": "1g"})
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_folder(tmp_path_factory):
    """The sample data set (2,000 customers, seed 0) as the CLI writes it: CSV tables."""
    from forecasting import sample

    folder = tmp_path_factory.mktemp("spark_sample")
    sample.write(sample.generate(customers=2000, seed=0), folder, fmt="csv")
    return folder


@pytest.fixture(scope="session")
def local_data(sample_folder):
    return read_dataset(sample_folder, now=NOW)


@pytest.fixture(scope="session")
def trained(local_data):
    """A churn model of the sample (LightGBM with library defaults: its reasons come from
    tree contributions, the path the champion takes)."""
    result = train_time_based(local_data, ChurnConfig(n_cutoffs=3,
                                                      candidates=("lgbm_default",)))
    result.model.version = "7"  # as if loaded from the registry
    return result
