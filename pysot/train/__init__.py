"""Training as library code: the loop (:mod:`.loop`), what trains at which rate (:mod:`.optim`),
TA-aware channel masks (:mod:`.channel_drop`) and the weights export (:mod:`.export`).

``tools/train.py`` is the command line over :func:`train` and :func:`export_weights`.
"""

from pysot.train.channel_drop import ChannelDrop, build_channel_drop
from pysot.train.export import export_weights
from pysot.train.loop import LOSS_KEYS, Trainer, seed_everything, train
from pysot.train.optim import build_optimizer, set_backbone_trainable

__all__ = [
    "LOSS_KEYS",
    "ChannelDrop",
    "Trainer",
    "build_channel_drop",
    "build_optimizer",
    "export_weights",
    "seed_everything",
    "set_backbone_trainable",
    "train",
]
