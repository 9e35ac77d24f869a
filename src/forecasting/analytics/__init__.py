"""Customer analytics: functions of orders, features and churn scores, never of models.

* :mod:`.segments` -- RFM scores, named segments, lifecycle stage, value at risk
* :mod:`.kpis` -- fulfilment, retention, repurchase, churn, NPS, CSAT, complaints per period
* :mod:`.followup` -- customers ranked by value at risk with reasons and a suggested action
* :mod:`.plots` -- the figures of the three above

Churn probabilities come in as an argument (the output of
:func:`forecasting.churn.score.score_customers`); without them, from RFM rules. Nothing
here reads the model registry: the command or the snapshot fetches the scores.
"""
