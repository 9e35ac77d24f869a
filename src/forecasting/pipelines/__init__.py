"""Jobs that tie the parts together: :mod:`forecasting.pipelines.snapshot` builds what the API
serves (churn scores, segments, follow-up list, KPIs and forecasts as of one date)."""
