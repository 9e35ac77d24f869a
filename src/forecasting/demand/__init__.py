"""Demand forecasting: product series from orders, local and global models, rolling-origin
backtests, conformal intervals and the model choice (an ensemble per panel, intermittent series
routed to their own method).

Data flow (one table shape at every boundary: ``unique_id``, ``ds``, ``y``)::

    orders --series.orders_to_series--> long table --validate.validate_series--> Panel
    Panel --backtest--> errors per model --select--> ensemble --intervals--> forecast table

Entry points: :func:`forecasting.demand.pipeline.forecast` (what ``forecasting forecast``
runs) and :func:`forecasting.demand.training.train` (``forecasting train demand``).
"""
