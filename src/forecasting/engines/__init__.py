"""Where the pipelines run: ``local`` (one pandas process, the default) or ``spark``.

The Spark engine (:mod:`forecasting.engines.spark`, the only module that imports ``pyspark``)
runs the same pandas code as the local engine on parts of the data:

* per-customer work (features, churn scores, RFM values) in customer-hash buckets: every
  table (orders, customers, complaints, surveys) is bucketed by the same hash of the customer
  id, so one bucket holds every event of its customers and
  :func:`forecasting.features.build_features` sees complete histories;
* everything global once over all data: date formats of text columns, duplicate keys,
  inconsistent orders and orphan ids (validation), numeric-or-text customer attributes, RFM
  quintile cut points and the RFM churn rates.

``pyspark`` is imported only when ``--engine spark`` is asked for, never on the CLI's start-up
path.
"""

from __future__ import annotations

ENGINES = ("local", "spark")
DEFAULT_ENGINE = "local"
DEFAULT_SPARK_MASTER = "local[*]"
