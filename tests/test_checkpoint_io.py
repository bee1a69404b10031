"""Checkpoint save/load round trips, PySOT layouts, named errors, ImageNet backbone weights."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from pysot.config import load_cfg
from pysot.models import ModelBuilder
from pysot.models.backbone import resnet50
from pysot.utils.checkpoint import (
    CheckpointError,
    config_from_checkpoint,
    load_checkpoint,
    load_pretrained_backbone,
    save_checkpoint,
)
from pysot.utils.device import select_device

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
ALEX = EXPERIMENTS / "siamrpn_alex_dwxcorr" / "config.yaml"


@pytest.fixture(scope="module")
def cfg():
    return load_cfg(ALEX)


@pytest.fixture(scope="module")
def trained(cfg):
    """A model whose every state entry is random, so a default-initialised value cannot pass as loaded."""
    torch.manual_seed(0)
    model = ModelBuilder(cfg)
    with torch.no_grad():
        for value in model.state_dict().values():
            if value.is_floating_point():
                value.copy_(torch.rand_like(value))
            else:
                value.fill_(7)
    return model


def _assert_same_state(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert list(sa) == list(sb)
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


def test_pysot_layout_round_trip_is_bit_identical(tmp_path, cfg, trained):
    # PySOT training snapshots: DataParallel 'module.' prefix, nested under 'state_dict'
    state = {"module." + k: v for k, v in trained.state_dict().items()}
    torch.save({"state_dict": state, "epoch": 19}, tmp_path / "snapshot.pth")
    fresh = ModelBuilder(cfg)
    extra = load_checkpoint(fresh, tmp_path / "snapshot.pth")
    assert extra == {"epoch": 19}
    _assert_same_state(trained, fresh)


@pytest.mark.parametrize("layout", ["plain", "model"])
def test_plain_and_model_layouts(tmp_path, cfg, trained, layout):
    state = trained.state_dict()
    torch.save(state if layout == "plain" else {"model": state}, tmp_path / "w.pth")
    fresh = ModelBuilder(cfg)
    assert load_checkpoint(fresh, tmp_path / "w.pth") == {}
    _assert_same_state(trained, fresh)


def test_save_checkpoint_carries_config_and_extras(tmp_path, cfg, trained):
    path = save_checkpoint(tmp_path / "out" / "checkpoint_e3.pth", trained, cfg, epoch=3, best=0.5)
    assert sorted(p.name for p in path.parent.iterdir()) == ["checkpoint_e3.pth"]  # no temporary left
    fresh = ModelBuilder(cfg)
    extra = load_checkpoint(fresh, path)
    assert extra["epoch"] == 3 and extra["best"] == 0.5
    assert extra["config"] == cfg.dump()
    _assert_same_state(trained, fresh)
    restored = config_from_checkpoint(path)
    assert restored.dump() == cfg.dump()
    assert restored.is_frozen()


def test_save_checkpoint_rejects_reserved_names(tmp_path, cfg, trained):
    with pytest.raises(ValueError, match="reserved"):
        save_checkpoint(tmp_path / "x.pth", trained, cfg, config="mine")


def test_config_from_plain_state_dict_is_an_error(tmp_path, trained):
    torch.save(trained.state_dict(), tmp_path / "zoo.pth")
    with pytest.raises(CheckpointError, match="carries no 'config'"):
        config_from_checkpoint(tmp_path / "zoo.pth")


def _broken(tmp_path, trained, edit) -> Path:
    state = dict(trained.state_dict())
    edit(state)
    torch.save({"state_dict": state}, tmp_path / "broken.pth")
    return tmp_path / "broken.pth"


def test_missing_key_is_named(tmp_path, cfg, trained):
    path = _broken(tmp_path, trained, lambda s: s.pop("rpn_head.loc.head.3.bias"))
    with pytest.raises(CheckpointError, match=r"missing keys \[rpn_head\.loc\.head\.3\.bias\]"):
        load_checkpoint(ModelBuilder(cfg), path)


def test_unexpected_key_is_named(tmp_path, cfg, trained):
    path = _broken(tmp_path, trained, lambda s: s.update({"neck.downsample2.weight": torch.zeros(3)}))
    with pytest.raises(CheckpointError, match=r"unexpected keys \[neck\.downsample2\.weight\]"):
        load_checkpoint(ModelBuilder(cfg), path)


def test_wrong_shape_is_named(tmp_path, cfg, trained):
    path = _broken(tmp_path, trained, lambda s: s.update({"backbone.features.0.bias": torch.zeros(95)}))
    expected = r"backbone\.features\.0\.bias: checkpoint \(95,\) vs model \(96,\)"
    with pytest.raises(CheckpointError, match=expected):
        load_checkpoint(ModelBuilder(cfg), path)


def test_missing_num_batches_tracked_is_fine(tmp_path, cfg, trained):
    def drop(state):
        for key in [k for k in state if k.endswith("num_batches_tracked")]:
            del state[key]

    fresh = ModelBuilder(cfg)
    load_checkpoint(fresh, _broken(tmp_path, trained, drop))
    for key, value in trained.state_dict().items():
        if not key.endswith("num_batches_tracked"):
            assert torch.equal(value, fresh.state_dict()[key]), key


def test_non_strict_loads_the_matching_part(tmp_path, cfg, trained, caplog):
    path = _broken(tmp_path, trained, lambda s: s.pop("rpn_head.loc.head.3.bias"))
    fresh = ModelBuilder(cfg)
    before = fresh.state_dict()["rpn_head.loc.head.3.bias"].clone()
    with caplog.at_level(logging.WARNING, logger="pysot.utils.checkpoint"):
        load_checkpoint(fresh, path, strict=False)
    assert "rpn_head.loc.head.3.bias" in caplog.text
    assert torch.equal(fresh.state_dict()["rpn_head.loc.head.3.bias"], before)
    key = "rpn_head.cls.head.3.bias"
    assert torch.equal(fresh.state_dict()[key], trained.state_dict()[key])


def test_not_a_state_dict(tmp_path, cfg):
    torch.save({"epoch": 1, "lr": 0.1}, tmp_path / "odd.pth")
    with pytest.raises(CheckpointError, match="not a state_dict"):
        load_checkpoint(ModelBuilder(cfg), tmp_path / "odd.pth")
    with pytest.raises(FileNotFoundError, match="absent.pth"):
        load_checkpoint(ModelBuilder(cfg), tmp_path / "absent.pth")


@pytest.fixture(scope="module")
def torchvision_resnet50(tmp_path_factory):
    torchvision = pytest.importorskip("torchvision")
    # torchvision's key names and shapes; values drawn here (cheaper than torchvision's init)
    with torch.device("meta"):
        layout = torchvision.models.resnet50(weights=None).state_dict()
    gen = torch.Generator().manual_seed(1)
    state = {k: torch.rand(v.shape, generator=gen).to(v.dtype) for k, v in layout.items()}
    path = tmp_path_factory.mktemp("imagenet") / "resnet50.pth"
    torch.save(state, path)
    return path


def test_pretrained_backbone_from_torchvision_keys(torchvision_resnet50):
    source = torch.load(torchvision_resnet50, weights_only=True)
    backbone = resnet50(used_layers=[2, 3, 4])
    report = load_pretrained_backbone(backbone, torchvision_resnet50)
    assert report.missing == [] and report.unexpected == []
    # the atrous net's strided/dilated 3x3 downsample convs take torchvision's 1x1 weights
    assert report.expanded == [f"layer{i}.0.downsample.0.weight" for i in (2, 3, 4)]
    ours = backbone.state_dict()
    for key in report.loaded:
        assert torch.equal(ours[key], source[key]), key
    expanded = ours["layer3.0.downsample.0.weight"]
    assert torch.equal(expanded[:, :, 1, 1], source["layer3.0.downsample.0.weight"][:, :, 0, 0])
    assert int(torch.count_nonzero(expanded[:, :, [0, 2], :])) == 0
    assert int(torch.count_nonzero(expanded[:, :, :, [0, 2]])) == 0
    # with padding 1 (layer3) the centre-tap 3x3 conv computes exactly the 1x1 conv
    x = torch.rand(1, 512, 9, 9)
    conv = backbone.layer3[0].downsample[0]
    reference = F.conv2d(x, source["layer3.0.downsample.0.weight"])
    torch.testing.assert_close(conv(x), reference, rtol=1e-5, atol=1e-4)


def test_pretrained_backbone_reports_unused_layers(torchvision_resnet50):
    report = load_pretrained_backbone(resnet50(used_layers=[0, 1, 2, 3]), torchvision_resnet50)
    assert report.missing == []
    assert report.unexpected and all(k.startswith("layer4.") for k in report.unexpected)


def test_pretrained_backbone_shape_mismatch(torchvision_resnet50):
    expected = r"conv1\.weight: file \(64, 3, 7, 7\) vs backbone \(32, 3, 7, 7\)"
    with pytest.raises(CheckpointError, match=expected):
        load_pretrained_backbone(resnet50(width_mult=0.5), torchvision_resnet50)


def test_select_device():
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert select_device(None) == select_device("auto")
    with pytest.raises(ValueError, match="invalid device 'gpu0'"):
        select_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            select_device("cuda")
