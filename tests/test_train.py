"""pysot.train and tools/train.py: a short CPU run, checkpoints with the config inside, --resume,
and data-parallel gradients over two gloo processes.

The tiny model is an atrous ResNet-18 at 1/16 width (4-32 channels) trained on SYNTH_PATCHES pairs
(the cheapest synthetic source), batch 2, two iterations per epoch.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from yacs.config import CfgNode as CN

from pysot.config import finalize_cfg, get_cfg
from pysot.data.dataset import TrkDataset
from pysot.models.model_builder import ModelBuilder
from pysot.train import ChannelDrop, export_weights, train
from pysot.utils import distributed as du
from pysot.utils.checkpoint import config_from_checkpoint
from tools import train as train_tool


def tiny_cfg(snapshot_dir: Path, epochs: int = 1, **train) -> CN:
    cfg = get_cfg()
    cfg.BACKBONE.TYPE = "resnet18"
    cfg.BACKBONE.KWARGS = CN({"used_layers": [2, 3, 4], "width_mult": 0.0625})
    cfg.BACKBONE.TRAIN_LAYERS = ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"]
    cfg.BACKBONE.TRAIN_EPOCH = 0
    cfg.BACKBONE.LAYERS_LR = 1.0
    cfg.ADJUST.KWARGS = CN({"in_channels": [8, 16, 32], "out_channels": [8, 8, 8]})
    cfg.RPN.KWARGS = CN({"anchor_num": 5, "in_channels": [8, 8, 8], "weighted": True})
    cfg.TRAIN.SEARCH_SIZE = 191
    cfg.TRAIN.OUTPUT_SIZE = 17
    cfg.TRAIN.EPOCH = epochs
    cfg.TRAIN.BATCH_SIZE = 2
    cfg.TRAIN.NUM_WORKERS = 0
    cfg.TRAIN.PRINT_FREQ = 1
    cfg.TRAIN.SNAPSHOT_DIR = str(snapshot_dir)
    cfg.TRAIN.LOG_DIR = str(snapshot_dir / "logs")
    # a constant rate, so a run of 1 epoch + 1 resumed epoch equals a run of 2 epochs
    cfg.TRAIN.LR_WARMUP.WARMUP = False
    cfg.TRAIN.LR.TYPE = "step"
    cfg.TRAIN.LR.KWARGS = CN({"start_lr": 0.01, "step": 1, "mult": 1.0})
    cfg.TRAIN.BASE_LR = 0.01
    for key, value in train.items():
        cfg.TRAIN[key] = value
    cfg.DATASET.NAMES = ["SYNTH_PATCHES"]
    cfg.DATASET.SYNTH_PATCHES = CN({"SEED": 3, "NUM_USE": 50, "CANVAS": 255})
    cfg.DATASET.VIDEOS_PER_EPOCH = 4
    cfg.DATASET.SEARCH.SHIFT = 32
    return finalize_cfg(cfg)


def _state(path: Path) -> dict:
    return torch.load(str(path), map_location="cpu", weights_only=True)


def test_two_iterations_checkpoint_and_resume(tmp_path):
    torch.set_num_threads(1)
    losses = train(tiny_cfg(tmp_path / "a", epochs=1), device="cpu")
    assert set(losses) == {"total_loss", "cls_loss", "loc_loss"}
    assert all(np.isfinite(v) for v in losses.values())
    first = tmp_path / "a" / "checkpoint_e1.pth"
    ckpt = _state(first)
    assert ckpt["epoch"] == 1
    assert ckpt["optimizer"]["state"]  # momentum buffers after two SGD steps
    # the checkpoint carries the config it was trained with
    assert config_from_checkpoint(first).BACKBONE.KWARGS.width_mult == 0.0625
    assert (tmp_path / "a" / "config.yaml").is_file()

    # resume with 2 epochs: only epoch 2 runs, and the result equals an uninterrupted 2-epoch run
    mtime = first.stat().st_mtime_ns
    train(tiny_cfg(tmp_path / "a", epochs=2), resume=first, device="cpu")
    assert first.stat().st_mtime_ns == mtime
    resumed = _state(tmp_path / "a" / "checkpoint_e2.pth")
    assert resumed["epoch"] == 2
    train(tiny_cfg(tmp_path / "b", epochs=2), device="cpu")
    straight = _state(tmp_path / "b" / "checkpoint_e2.pth")
    assert sorted(straight["state_dict"]) == sorted(resumed["state_dict"])
    for key, value in straight["state_dict"].items():
        torch.testing.assert_close(resumed["state_dict"][key], value, rtol=1e-5, atol=1e-6, msg=key)

    # the exported weights drop the optimizer state and keep config and epoch
    out = export_weights(tmp_path / "a" / "checkpoint_e2.pth", tmp_path / "model.pth")
    exported = _state(out)
    assert "optimizer" not in exported and exported["epoch"] == 2 and "config" in exported


def test_main_parses_overrides(tmp_path):
    cfg_path = tmp_path / "config.yaml"
    cfg_path.write_text(tiny_cfg(tmp_path / "snap").dump())
    rc = train_tool.main(
        [
            "--config",
            str(cfg_path),
            "--device",
            "cpu",
            "--threads",
            "1",
            "--export",
            str(tmp_path / "model.pth"),
            "DATASET.VIDEOS_PER_EPOCH",
            "2",
        ]
    )
    assert rc == 0
    assert _state(tmp_path / "model.pth")["epoch"] == 1


# ------------------------------------------------------------------ data-parallel gradients
def _batch(cfg: CN, n: int) -> dict[str, torch.Tensor]:
    """float64 batch of n samples with exactly 3 positives and 5 negatives each, so the balanced
    classification loss over the whole batch is the mean of the two halves' losses."""
    g = torch.Generator().manual_seed(0)
    o = cfg.TRAIN.OUTPUT_SIZE
    cls = torch.full((n, 5, o, o), -1, dtype=torch.long)
    cls[:, 2, 8, 7:10] = 1
    cls[:, 0, 0, :5] = 0
    weight = (cls == 1).float() / 3
    return {
        "template": torch.rand(n, 3, 127, 127, generator=g, dtype=torch.float64) * 255,
        "search": torch.rand(
            n, 3, cfg.TRAIN.SEARCH_SIZE, cfg.TRAIN.SEARCH_SIZE, generator=g, dtype=torch.float64
        )
        * 255,
        "label_cls": cls,
        "label_loc": torch.randn(n, 4, 5, o, o, generator=g, dtype=torch.float64) * 0.1,
        "label_loc_weight": weight.double(),
    }


def _gradients(model: ModelBuilder, batch: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    model.zero_grad(set_to_none=True)
    model(batch)["total_loss"].backward()
    du.average_gradients(model.parameters())
    return [p.grad.clone() for p in model.parameters()]


def _worker(rank: int, world_size: int, ports: tuple[int, int], out_dir: str) -> None:
    os.environ.update(
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(ports[0]),
    )
    torch.set_num_threads(1)
    cfg = tiny_cfg(Path(out_dir) / "snap")
    du.init_distributed(torch.device("cpu"))
    torch.manual_seed(rank)  # different initial weights per process: the broadcast must fix them
    # float64, so that the different summation order of the two halves stays far below the tolerance
    model = ModelBuilder(cfg).double()
    du.broadcast_parameters(model)
    # eval-mode BatchNorm (running statistics): batch statistics would differ between halves
    model.eval()
    batch = _batch(cfg, 4)
    half = {k: v[2 * rank : 2 * rank + 2] for k, v in batch.items()}
    grads = _gradients(model, half)
    torch.save(
        {"grads": grads, "weights": [p.detach() for p in model.parameters()]},
        os.path.join(out_dir, f"rank{rank}.pth"),
    )
    du.cleanup()
    # the training tool itself under 2 processes: each takes half of the 4 pairs of the epoch.
    # A fresh rendezvous port: re-using the first one races with its teardown (a rank could reach
    # the old store while it closes, "Connection was likely closed").
    os.environ["MASTER_PORT"] = str(ports[1])
    train(cfg, device="cpu")


def _free_ports(count: int) -> tuple[int, ...]:
    """``count`` distinct free TCP ports (all sockets held open while choosing)."""
    socks = [socket.socket() for _ in range(count)]
    try:
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return tuple(sock.getsockname()[1] for sock in socks)
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed unavailable")
def test_two_gloo_processes_match_one_process_on_the_combined_batch(tmp_path):
    mp.spawn(_worker, args=(2, _free_ports(2), str(tmp_path)), nprocs=2, join=True)
    r0, r1 = (torch.load(str(tmp_path / f"rank{r}.pth"), weights_only=True) for r in (0, 1))
    # one process, the whole batch, rank 0's (broadcast) weights
    torch.set_num_threads(1)
    cfg = tiny_cfg(tmp_path / "single")
    model = ModelBuilder(cfg).double()
    with torch.no_grad():
        for p, w in zip(model.parameters(), r0["weights"]):
            p.copy_(w)
    model.eval()
    single = _gradients(model, _batch(cfg, 4))
    for w0, w1 in zip(r0["weights"], r1["weights"]):
        torch.testing.assert_close(w0, w1, rtol=0, atol=0)
    assert any(g.abs().sum() > 0 for g in single)
    for g0, g1, g in zip(r0["grads"], r1["grads"], single):
        torch.testing.assert_close(g0, g1, rtol=0, atol=0)  # all-reduced: identical on both ranks
        torch.testing.assert_close(g0, g, rtol=1e-9, atol=1e-12)
    ckpt = _state(tmp_path / "snap" / "checkpoint_e1.pth")  # written by rank 0 only
    assert ckpt["epoch"] == 1


# ------------------------------------------------------------------ PySOT crop511 sub-datasets
def _crop511_fixture(root: Path) -> Path:
    """Two videos in PySOT's crop511 layout; video 'b' track '01' has a zero-width frame (dropped)."""
    anno = {
        "a": {"00": {"000000": [10, 10, 74, 74], "000001": [12, 10, 76, 74], "000002": [14, 10, 78, 74]}},
        "b": {"00": {"000000": [0, 0, 32, 64]}, "01": {"000000": [5, 5, 5, 20]}},
    }
    rng = np.random.default_rng(0)
    for video, tracks in anno.items():
        for track, frames in tracks.items():
            for frame in frames:
                path = root / "crop511" / video / f"{frame}.{track}.x.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(path), rng.integers(0, 255, (511, 511, 3), dtype=np.uint8))
    (root / "train.json").write_text(json.dumps(anno))
    return root


def test_crop511_sub_dataset_pairs(tmp_path):
    _crop511_fixture(tmp_path / "vid")
    cfg = get_cfg()
    cfg.DATASET.NAMES = ["VID"]
    cfg.DATASET.VID.ROOT = "vid/crop511"
    cfg.DATASET.VID.ANNO = "vid/train.json"
    cfg.DATASET.VID.FRAME_RANGE = 1
    cfg.DATASET.VID.NUM_USE = -1
    cfg.DATASET.VIDEOS_PER_EPOCH = 6
    cfg.DATASET.NEG = 0.0
    cfg.DATASET.SEARCH.SHIFT = 0
    cfg.DATASET.SEARCH.SCALE = 0.0
    cfg.DATASET.SEARCH.COLOR = 0.0
    finalize_cfg(cfg)
    dataset = TrkDataset(cfg, data_dir=tmp_path)
    vid = dataset.datasets[0]
    assert vid.num == 2 and list(vid.labels["b"]) == ["00"]  # the zero-width track is dropped
    assert vid.labels["a"]["00"]["frames"] == [0, 1, 2]
    # every video used once per pass (NUM_USE -1), repeated to fill the epoch
    assert sorted(dataset.pick[:2, 1].tolist()) == [0, 1] and len(dataset) == 6
    item = dataset[0]
    assert item["template"].shape == (3, 127, 127) and item["search"].shape == (3, 255, 255)
    # without shift/scale the 64 x 64 target of video 'a' (context 128 -> 127 px) stays centred in
    # the search crop: s_z = 128, so its size there is 64 * 127 / 128 = 63.5
    a_items = [dataset[i] for i in range(6) if dataset.pick[i, 1] == vid.videos.index("a")]
    cx = (a_items[0]["bbox"][0] + a_items[0]["bbox"][2]) / 2
    assert cx == pytest.approx(127.0) and a_items[0]["bbox"][2] - a_items[0]["bbox"][0] == pytest.approx(63.5)
    # samples are a function of (seed, epoch, index)
    np.testing.assert_array_equal(dataset[3]["search"], dataset[3]["search"])
    dataset.set_epoch(1)
    assert dataset.epoch == 1
    with pytest.raises(FileNotFoundError, match="DATASET.VID.ANNO"):
        TrkDataset(cfg, data_dir=tmp_path / "missing")


# ------------------------------------------------------------------ TA-aware channel masks
def test_channel_drop_masks_template_and_search_alike():
    class TwoMaps(torch.nn.Module):
        def forward(self, x):
            return [x[:, :4], x[:, 4:]]

    net = TwoMaps()
    # keep 1 of 4 and all 4 channels; every pair masked (prob 1)
    drop = ChannelDrop(net, [4, 4], [1, 4], prob=1.0, seed=3)
    drop.draw(batch_size=3, epoch=0, iteration=0)
    z, x = net(torch.ones(3, 8, 2, 2)), net(torch.ones(3, 8, 5, 5))
    kept_z = z[0][:, :, 0, 0] != 0
    kept_x = x[0][:, :, 0, 0] != 0
    assert kept_z.sum(1).tolist() == [1, 1, 1]  # exactly one channel of the first map per pair
    assert torch.equal(kept_z, kept_x)  # the same channels for the template and the search image
    assert torch.count_nonzero(z[1]) == z[1].numel()  # the second map keeps all channels
    # the same (seed, epoch, iteration) draws the same masks; prob 0 masks nothing
    again = ChannelDrop(net, [4, 4], [1, 4], prob=1.0, seed=3)
    again.draw(3, 0, 0)
    assert torch.equal(again.masks[0], drop.masks[0])
    drop.remove()
    again.remove()
    never = ChannelDrop(net, [4, 4], [1, 4], prob=0.0, seed=3)
    never.draw(3, 0, 0)
    assert torch.count_nonzero(net(torch.ones(3, 8, 2, 2))[0]) == 3 * 4 * 4
    never.remove()
    with pytest.raises(ValueError, match="ta-channel-drop"):
        ChannelDrop(net, [4], [1], prob=1.5, seed=0)
