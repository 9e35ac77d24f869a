"""Monitoring: drift of churn features and scores against the training reference, and the
realised performance of past refreshes (``forecasting monitor``). See :mod:`.report`."""
