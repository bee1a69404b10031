"""pysot.onnx_export and tools/export_onnx.py: the two graphs reproduce ModelBuilder.template/track,
TA masks included."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pysot import onnx_export as export_onnx
from tools import export_onnx as export_onnx_tool


def test_flatten_roundtrip():
    a, b, c = torch.zeros(1), torch.ones(2), torch.full((3,), 2.0)
    tree = [(a, b), (c, a)]
    leaves, spec = export_onnx.flatten(tree)
    assert [t.shape[0] for t in leaves] == [1, 2, 3, 1]
    rebuilt = export_onnx.unflatten(leaves, spec)
    assert isinstance(rebuilt, list) and isinstance(rebuilt[0], tuple)
    assert rebuilt[1][0] is c


def test_opset_below_17_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="opset must be >= 17"):
        export_onnx.export_onnx(torch.nn.Identity(), None, tmp_path, opset=16)


def test_dynamo_without_onnxscript_is_a_one_line_error(tmp_path, capsys, monkeypatch, tiny_experiment):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a)
    )
    with pytest.raises(ImportError, match="--dynamo.*needs onnxscript: pip install onnxscript"):
        export_onnx.export_onnx(torch.nn.Identity(), None, tmp_path / "x", dynamo=True)
    config, snapshot = tiny_experiment
    argv = [
        "--config",
        str(config),
        "--snapshot",
        str(snapshot),
        "--output-dir",
        str(tmp_path / "o"),
        "--dynamo",
    ]
    assert export_onnx_tool.main(argv) == 2
    assert (
        capsys.readouterr()
        .err.strip()
        .splitlines()[-1]
        .startswith("error: the torch.export-based ONNX exporter")
    )
    assert not (tmp_path / "o").exists() and not (tmp_path / "x").exists()


def test_export_matches_pytorch_with_masks(tmp_path, capsys, tiny_experiment):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    torch.set_num_threads(1)
    config, snapshot = tiny_experiment
    out = tmp_path / "onnx"
    argv = ["--config", str(config), "--snapshot", str(snapshot), "--output-dir", str(out)]
    assert export_onnx_tool.main(argv) == 0
    report = json.loads((out / "export.json").read_text())
    assert report["opset"] == 17
    # Tiny model: backbone outputs of 32/64/128 channels; MultiRPN with 3 layers x (cls, loc) kernels,
    # each 1 x 32 x 5 x 5 (7x7 template features after the 3x3 conv).
    assert report["mask_sizes"] == [32, 64, 128]
    assert report["kernel_shapes"] == [[1, 32, 5, 5]] * 6
    # float32 arithmetic in both runtimes: agreement to a few float32 ulps of the output scale.
    for name in ("kernels", "cls", "loc"):
        assert report["max_rel_diff"][name] < 1e-5, (name, report)

    # The masks are graph inputs, not constants: other masks (and images) still match PyTorch.
    from pysot.config import load_cfg
    from pysot.integrations.loading import load_model

    cfg = load_cfg(config)
    model = load_model(cfg, snapshot, "cpu")
    generator = torch.Generator().manual_seed(7)
    z = torch.rand(1, 3, 127, 127, generator=generator) * 255
    x = torch.rand(1, 3, 255, 255, generator=generator) * 255
    masks = [torch.ones(32), torch.zeros(64), torch.ones(128)]
    masks[1][:10] = 1
    masks[2][::3] = 0
    with torch.no_grad():
        model.set_channel_masks(masks)
        model.template(z)
        expected = model.track(x)
        model.set_channel_masks(None)
        model.template(z)
        unmasked = model.track(x)
    feed = {f"mask{i}": m.numpy() for i, m in enumerate(masks)}
    template = ort.InferenceSession(str(out / "template.onnx"), providers=["CPUExecutionProvider"])
    track = ort.InferenceSession(str(out / "track.onnx"), providers=["CPUExecutionProvider"])
    kernels = template.run(None, {"z": z.numpy(), **feed})
    cls, loc = track.run(None, {"x": x.numpy(), **{f"kernel{i}": k for i, k in enumerate(kernels)}, **feed})
    scale = float(expected["cls"].abs().max())
    assert np.abs(cls - expected["cls"].numpy()).max() < 1e-5 * scale
    assert np.abs(loc - expected["loc"].numpy()).max() < 1e-5 * float(expected["loc"].abs().max())
    # ... and the masks matter: the unmasked network gives other scores.
    assert np.abs(cls - unmasked["cls"].numpy()).max() > 1e-2 * scale
