"""``torch.utils``: ``data`` (Dataset, DataLoader, samplers, random_split) and
``checkpoint`` (recompute a block in backward instead of storing it)."""

from . import checkpoint, data

__all__ = ["checkpoint", "data"]
