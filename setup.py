"""Ta-SiamRPN++: Siamese tracking with target-aware feature selection (PySOT-compatible)."""

from setuptools import find_packages, setup

CORE = [
    "torch>=2.1",
    "torchvision>=0.16",
    "numpy>=1.24",
    "opencv-python>=4.8",
    "yacs>=0.1.8",
    "tqdm>=4.60",
    "colorama>=0.4",
    "numba>=0.58",
    "matplotlib>=3.7",
    "scikit-image>=0.21",
]

EXTRAS = {
    # test runner, linter, and the optional packages whose integrations the tests exercise
    # (official VOT toolkit cross-check, TraX, ONNX, Optuna, GOT-10k); tests skip without them
    "test": [
        "pytest>=7",
        "ruff>=0.5",
        "vot-toolkit==0.7.4",
        "attributee==0.1.9",
        "vot-trax>=4.0",
        "onnx>=1.15",
        "onnxruntime>=1.17",
        "optuna>=3.4",
        "got10k>=0.1.3",
    ],
    # VOT toolkit integration through TraX
    "vot": ["vot-trax>=4.0"],
    # ONNX export and its numerical check
    "onnx": ["onnx>=1.15", "onnxruntime>=1.17"],
    # hyper-parameter search
    "hpsearch": ["optuna>=3.4"],
    # OpenCV reference trackers (KCF/CSRT/MIL) used by the benchmark comparison. Both wheels ship
    # cv2, so they must be the same version: pinned together (the version docs/synthetic.md's
    # baseline numbers were measured with); installing the extra moves opencv-python to it.
    "contrib": ["opencv-python==5.0.0.93", "opencv-contrib-python==5.0.0.93"],
    # training curves
    "tensorboard": ["tensorboard>=2.14"],
    # the official VOT toolkit that tests/test_vot_official.py cross-checks `--protocol vot` against
    "votcheck": ["vot-toolkit==0.7.4", "attributee==0.1.9"],
    # GOT-10k toolkit tracker adapter (pysot/integrations/got10k_adapter.py)
    "got10k": ["got10k>=0.1.3"],
}

setup(
    name="ta-siamrpn",
    version="0.1.0",
    description="Ta-SiamRPN++: SiamRPN++ with target-aware channel selection, PySOT-compatible",
    packages=find_packages(include=["pysot", "pysot.*", "toolkit", "toolkit.*"]),
    package_data={"pysot": ["py.typed"]},
    python_requires=">=3.9",
    install_requires=CORE,
    extras_require=EXTRAS,
)
