"""Churn risk: who is about to leave, how likely, and why.

Modules, in data-flow order: :mod:`.config` (typed settings), :mod:`.frame` (feature
typing shared by training and serving), :mod:`.estimators` (baselines, LightGBM, blend),
:mod:`.calibration`, :mod:`.metrics`, :mod:`.reasons` (per-row explanations),
:mod:`.model` (the object logged to MLflow), :mod:`.table_mode` (``--table`` CRM exports),
:mod:`.pipeline` (time-based training), :mod:`.gate` (promotion), :mod:`.score`.
"""
