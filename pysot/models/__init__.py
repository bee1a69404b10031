"""Networks: backbones, neck, heads, losses and the :class:`ModelBuilder` that assembles them."""

from pysot.models.model_builder import ModelBuilder

__all__ = ["ModelBuilder"]
