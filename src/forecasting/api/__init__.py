"""The HTTP API.

* :mod:`forecasting.api.service` -- the BentoML service (the one module importing bentoml)
* :mod:`forecasting.api.backend` -- the request handlers over the current snapshot and models
* :mod:`forecasting.api.models`  -- request and response bodies (pydantic)
* :mod:`forecasting.api.guard`   -- API key and media-type checks (ASGI middleware)
* :mod:`forecasting.api.batcher` -- batching of feature-row scoring across requests
"""
