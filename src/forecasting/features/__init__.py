"""Point-in-time customer features: ``build_features(data, as_of)`` is the one entry point.

Modules: :mod:`.rfm` (purchases), :mod:`.fulfilment` (on-time delivery), :mod:`.complaints`,
:mod:`.satisfaction` (surveys), :mod:`.build` (assembles them as of a cutoff).
"""

from forecasting.features.build import ATTRIBUTE_PREFIX, build_features, customer_attributes

__all__ = ["build_features", "customer_attributes", "ATTRIBUTE_PREFIX"]
