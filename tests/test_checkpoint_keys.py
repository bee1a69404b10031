"""Our models have exactly the state_dict keys/shapes and output shapes of PySOT's model-zoo networks.

The reference files (tests/data/checkpoint_keys/*.json) were produced by building PySOT's own model
definitions. Models here are built on the ``meta`` device: key names, shapes and output shapes are
exactly those of a real build, without allocating or computing anything (real CPU forward passes of
every config are in test_models.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from pysot.config import load_cfg
from pysot.models import ModelBuilder

DATA = Path(__file__).parent / "data" / "checkpoint_keys"
EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
REFERENCES = sorted(DATA.glob("*.json"))


def test_reference_files_cover_pysot_model_zoo():
    # the seven PySOT configs whose checkpoints are published
    assert {p.stem for p in REFERENCES} == {
        "siammask_r50_l3",
        "siamrpn_alex_dwxcorr",
        "siamrpn_alex_dwxcorr_otb",
        "siamrpn_mobilev2_l234_dwxcorr",
        "siamrpn_r50_l234_dwxcorr",
        "siamrpn_r50_l234_dwxcorr_lt",
        "siamrpn_r50_l234_dwxcorr_otb",
    }


@pytest.fixture(scope="module", params=REFERENCES, ids=lambda p: p.stem)
def case(request):
    ref = json.loads(request.param.read_text())
    cfg = load_cfg(EXPERIMENTS / ref["config"] / "config.yaml")
    with torch.device("meta"):
        model = ModelBuilder(cfg).eval()
    return ref, cfg, model


def _meta_image(size: int) -> torch.Tensor:
    return torch.empty(1, 3, size, size, device="meta")


def test_state_dict_keys_and_shapes(case):
    ref, _, model = case
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert sorted(set(ref["keys"]) - set(ours)) == []  # missing in our model
    assert sorted(set(ours) - set(ref["keys"])) == []  # extra in our model
    assert {k: v for k, v in ours.items() if v != ref["keys"][k]} == {}
    assert len(ours) == ref["num_state_dict_entries"]


def test_parameter_counts(case):
    ref, _, model = case
    assert sum(p.numel() for p in model.parameters()) == ref["num_params"]
    for name, count in ref["num_params_by_module"].items():
        assert sum(p.numel() for p in getattr(model, name).parameters()) == count, name


def test_config_matches_reference_model_cfg(case):
    ref, cfg, _ = case
    for dotted, expected in ref["model_cfg"].items():
        node, key = dotted.split(".")
        value = cfg[node][key]
        if expected is None:  # ADJUST.TYPE/KWARGS are unused when ADJUST.ADJUST is False
            assert not cfg.ADJUST.ADJUST, dotted
            continue
        if key == "KWARGS":
            value = {k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in value.items()}
        assert value == expected, dotted


def test_output_shapes(case):
    ref, _, model = case
    model.template(_meta_image(ref["outputs"]["template_input"][2]))
    for size, expected in ref["outputs"]["track"].items():
        out = model.track(_meta_image(int(size)))
        shapes = {k: list(v.shape) for k, v in out.items()}
        if "mask_refine" in expected:
            shapes["mask_refine"] = list(model.mask_refine((12, 12)).shape)
        assert shapes == {k: v for k, v in expected.items() if k != "search_input"}, size


def test_feature_shapes(case):
    ref, _, model = case
    for name, expected in ref["feature_shapes"].items():
        if not name.startswith("backbone_"):
            continue
        feats = model.backbone_features(_meta_image(int(name.split("_")[1])))
        # PySOT returns a bare tensor for a single used layer; we always return a list
        expected = expected if isinstance(expected[0], list) else [expected]
        assert [list(f.shape) for f in feats] == expected, name
        assert model.feature_channels == [s[1] for s in expected]
