"""pysot.config: fresh defaults, PySOT yaml files unchanged, overrides, derived values, TA node."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from yacs.config import CfgNode

from pysot.config import finalize_cfg, get_cfg, load_cfg, merge_overrides

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"

# PySOT's published tracking hyper-parameters (its experiments/*/config.yaml):
# PENALTY_K, WINDOW_INFLUENCE, LR, INSTANCE_SIZE, BASE_SIZE, TRACK.TYPE
PUBLISHED = {
    "siamrpn_r50_l234_dwxcorr": (0.05, 0.42, 0.38, 255, 8, "SiamRPNTracker"),
    "siamrpn_r50_l234_dwxcorr_otb": (0.24, 0.5, 0.25, 255, 8, "SiamRPNTracker"),
    "siamrpn_alex_dwxcorr": (0.16, 0.40, 0.30, 287, 0, "SiamRPNTracker"),
    "siamrpn_alex_dwxcorr_otb": (0.16, 0.40, 0.30, 287, 0, "SiamRPNTracker"),
    "siamrpn_mobilev2_l234_dwxcorr": (0.04, 0.4, 0.5, 255, 8, "SiamRPNTracker"),
    "siamrpn_r50_l234_dwxcorr_lt": (0.05, 0.28, 0.22, 255, 8, "SiamRPNLTTracker"),
    "siammask_r50_l3": (0.10, 0.41, 0.32, 255, 8, "SiamMaskTracker"),
}


def _path(name: str) -> Path:
    return EXPERIMENTS / name / "config.yaml"


def test_get_cfg_returns_independent_copies():
    a, b = get_cfg(), get_cfg()
    a.TRACK.LR = 0.99
    a.BACKBONE.KWARGS.width_mult = 0.5
    assert b.TRACK.LR == 0.4 and "width_mult" not in b.BACKBONE.KWARGS
    assert get_cfg().TRACK.LR == 0.4  # the defaults are untouched
    assert not get_cfg().is_frozen()


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_pysot_yaml_loads_with_published_values(name):
    cfg = load_cfg(_path(name))
    assert cfg.is_frozen()
    t = cfg.TRACK
    assert (t.PENALTY_K, t.WINDOW_INFLUENCE, t.LR, t.INSTANCE_SIZE, t.BASE_SIZE, t.TYPE) == PUBLISHED[name]
    assert (t.EXEMPLAR_SIZE, t.CONTEXT_AMOUNT) == (127, 0.5)
    assert cfg.TA.ENABLE is False  # baselines are exactly SiamRPN++


def test_lt_yaml_stray_keys_are_ignored(caplog):
    cfg = load_cfg(_path("siamrpn_r50_l234_dwxcorr_lt"))
    # PySOT's lt yaml carries BACKBONE.CHANNELS, ADJUST.ADJUST_CHANNEL, RPN.WEIGHTED, never defined
    raw = yaml.safe_load(_path("siamrpn_r50_l234_dwxcorr_lt").read_text())
    assert "CHANNELS" in raw["BACKBONE"] and "ADJUST_CHANNEL" in raw["ADJUST"] and "WEIGHTED" in raw["RPN"]
    assert "CHANNELS" not in cfg.BACKBONE and "ADJUST_CHANNEL" not in cfg.ADJUST and "WEIGHTED" not in cfg.RPN
    assert cfg.RPN.KWARGS.weighted is True and list(cfg.ADJUST.KWARGS.out_channels) == [128, 256, 512]
    assert (cfg.TRACK.CONFIDENCE_LOW, cfg.TRACK.CONFIDENCE_HIGH) == (0.8, 0.998)


def test_unread_pysot_keys_load_and_are_dropped(tmp_path):
    # PySOT's CUDA and TRAIN.LOG_GRADS are read by nothing here (the device is --device, CUDA when
    # present; no gradient histograms): files and checkpoint configs that carry them still load,
    # from the file and as command-line overrides
    path = tmp_path / "config.yaml"
    path.write_text("CUDA: false\nTRAIN:\n  LOG_GRADS: true\n  EPOCH: 3\n")
    cfg = load_cfg(path, ["CUDA", "True"])
    assert "CUDA" not in cfg and "LOG_GRADS" not in cfg.TRAIN and cfg.TRAIN.EPOCH == 3
    assert "CUDA" not in cfg.dump() and "LOG_GRADS" not in cfg.dump()


@pytest.mark.parametrize("suffix", ["", "_otb"])
def test_ta_configs_are_baseline_plus_ta_enable(suffix):
    base = load_cfg(_path(f"siamrpn_r50_l234_dwxcorr{suffix}"))
    ta = load_cfg(_path(f"ta_siamrpn_r50_l234_dwxcorr{suffix}"))
    assert ta.TA.ENABLE is True
    assert ta.META_ARC == f"ta_siamrpn_r50_l234_dwxcorr{suffix}"
    defaults = get_cfg().TA
    for key, value in defaults.items():
        if key != "ENABLE":
            assert ta.TA[key] == value, key
    # everything else is the baseline's
    for node in base:
        if node not in ("TA", "META_ARC"):
            assert ta[node] == base[node], node


def test_every_experiment_loads():
    configs = sorted(EXPERIMENTS.glob("*/config.yaml"))
    assert len(configs) >= 9
    for path in configs:
        assert load_cfg(path).is_frozen(), path


def test_unknown_key_names_key_and_file(tmp_path):
    path = tmp_path / "exp" / "config.yaml"
    path.parent.mkdir()
    path.write_text("TRACK:\n    WINDOW_INFLUENCES: 0.4\n")
    with pytest.raises(KeyError, match=r"exp/config\.yaml.*TRACK\.WINDOW_INFLUENCES"):
        load_cfg(path)
    with pytest.raises(FileNotFoundError, match="nowhere.yaml"):
        load_cfg(tmp_path / "nowhere.yaml")


def test_type_mismatch_is_reported(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("TRACK:\n    INSTANCE_SIZE: 'big'\n")
    with pytest.raises(ValueError, match="INSTANCE_SIZE"):
        load_cfg(path)


def test_overrides():
    cfg = load_cfg(_path("siamrpn_r50_l234_dwxcorr"), ["TRACK.LR", "0.3", "TA.ENABLE", "True"])
    assert cfg.TRACK.LR == 0.3 and cfg.TA.ENABLE is True
    # KWARGS nodes are free-form: new keys may be added (the model builder checks them)
    cfg = load_cfg(_path("siamrpn_r50_l234_dwxcorr"), ["BACKBONE.KWARGS.width_mult", "0.25"])
    assert cfg.BACKBONE.KWARGS.width_mult == 0.25 and list(cfg.BACKBONE.KWARGS.used_layers) == [2, 3, 4]
    with pytest.raises(KeyError, match=r"command-line override: .*TRACK\.LRR"):
        load_cfg(None, ["TRACK.LRR", "0.3"])
    with pytest.raises(KeyError, match=r"TRACK\.LR\.X"):
        load_cfg(None, ["TRACK.LR.X", "0.3"])
    with pytest.raises(ValueError, match="KEY VALUE pairs"):
        load_cfg(None, ["TRACK.LR"])


def test_merge_overrides_on_a_mutable_cfg():
    cfg = get_cfg()
    assert merge_overrides(cfg, ["RPN.KWARGS.weighted", "False", "TRACK.TYPE", "SiamRPNLTTracker"]) is cfg
    assert cfg.RPN.KWARGS.weighted is False and cfg.TRACK.TYPE == "SiamRPNLTTracker"


def test_anchor_num_is_derived():
    # not given (left at PySOT's default): filled in from the ratios and scales
    assert load_cfg(None, ["ANCHOR.RATIOS", "[0.5, 1, 2]"]).ANCHOR.ANCHOR_NUM == 3
    assert load_cfg(None, ["ANCHOR.SCALES", "[8, 16]"]).ANCHOR.ANCHOR_NUM == 10
    # given and disagreeing: an error naming both
    with pytest.raises(ValueError, match=r"ANCHOR\.ANCHOR_NUM=7 disagrees .* = 5"):
        load_cfg(None, ["ANCHOR.ANCHOR_NUM", "7"])


def test_vot_convention_key():
    assert load_cfg(None).TEST.VOT_CONVENTION == "pysot"  # PySOT's run-time failure rule by default
    assert load_cfg(None, ["TEST.VOT_CONVENTION", "vot"]).TEST.VOT_CONVENTION == "vot"
    with pytest.raises(ValueError, match="TEST.VOT_CONVENTION='official' is not known; known: pysot, vot"):
        load_cfg(None, ["TEST.VOT_CONVENTION", "official"])


def test_frozen_config_rejects_changes():
    cfg = load_cfg(_path("siamrpn_alex_dwxcorr"))
    with pytest.raises(AttributeError):
        cfg.TRACK.LR = 0.1
    # finalize_cfg freezes in place and returns the same object
    fresh = get_cfg()
    assert finalize_cfg(fresh) is fresh and fresh.is_frozen()


def test_two_configs_coexist():
    alex = load_cfg(_path("siamrpn_alex_dwxcorr"))
    r50 = load_cfg(_path("siamrpn_r50_l234_dwxcorr"))
    assert alex.BACKBONE.TYPE == "alexnetlegacy" and r50.BACKBONE.TYPE == "resnet50"
    assert alex.TRACK.INSTANCE_SIZE == 287 and r50.TRACK.INSTANCE_SIZE == 255
    assert "used_layers" not in alex.BACKBONE.KWARGS


def test_dump_round_trip():
    cfg = load_cfg(_path("siammask_r50_l3"))
    again = get_cfg()
    again.merge_from_other_cfg(CfgNode.load_cfg(cfg.dump()))
    assert finalize_cfg(again) == cfg
