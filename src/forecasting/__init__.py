"""forecasting: churn risk, demand forecasts, production plans and customer KPIs.

Raw tables -> validated tables (``io``, ``validate``) -> features as of a cutoff
(``features``) -> models (``estimators``) -> MLflow runs and registry (``tracking``)
-> BentoML service (``service``).
"""

__version__ = "0.1.0"
