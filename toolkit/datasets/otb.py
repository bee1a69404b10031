"""OTB (Wu et al., TPAMI 2015): OTB100, and its OTB50 / CVPR13 (OTB-2013) subsets.

Reads ``<root>/<NAME>.json``; OTB50 and CVPR13 fall back to the videos of ``OTB100.json`` in the
same folder; without any JSON, the native ``<Video>/groundtruth_rect.txt`` + ``img/`` layout.
"""

from __future__ import annotations

from pathlib import Path

from .base import Dataset
from .native import load_otb_folder
from .pysot_json import find_json, load_json_dataset

#: The 51 sequences of the CVPR 2013 benchmark (OTB-2013), as named in PySOT's OTB100.json.
CVPR13_VIDEOS = (
    "Basketball", "Bolt", "Boy", "Car4", "CarDark", "CarScale", "Coke", "Couple", "Crossing", "David",
    "David2", "David3", "Deer", "Dog1", "Doll", "Dudek", "FaceOcc1", "FaceOcc2", "Fish", "FleetFace",
    "Football", "Football1", "Freeman1", "Freeman3", "Freeman4", "Girl", "Ironman", "Jogging-1",
    "Jogging-2", "Jumping", "Lemming", "Liquor", "Matrix", "Mhyang", "MotorRolling", "MountainBike",
    "Shaking", "Singer1", "Singer2", "Skating1", "Skiing", "Soccer", "Subway", "Suv", "Sylvester",
    "Tiger1", "Tiger2", "Trellis", "Walking", "Walking2", "Woman",
)  # fmt: skip

#: The 50 "TB-50" sequences of OTB-2015 (the harder half of OTB100).
OTB50_VIDEOS = (
    "Basketball", "Biker", "Bird1", "BlurBody", "BlurCar2", "BlurFace", "BlurOwl", "Bolt", "Box", "Car1",
    "Car4", "CarDark", "CarScale", "ClifBar", "Couple", "Crowds", "David", "Deer", "Diving", "DragonBaby",
    "Dudek", "Football", "Freeman4", "Girl", "Human3", "Human4-2", "Human6", "Human9", "Ironman", "Jump",
    "Jumping", "Liquor", "Matrix", "MotorRolling", "Panda", "RedTeam", "Shaking", "Singer2", "Skating1",
    "Skating2-1", "Skating2-2", "Skiing", "Soccer", "Surfer", "Sylvester", "Tiger2", "Trellis", "Walking",
    "Walking2", "Woman",
)  # fmt: skip

SUBSETS = {"OTB50": OTB50_VIDEOS, "CVPR13": CVPR13_VIDEOS}


def load(name: str, root: str | Path) -> Dataset:
    """OTB-style dataset ``name`` (OTB100, OTB50, CVPR13, or an OTB-format dataset such as SYNTH)."""
    root = Path(root)
    if find_json(root, name) is not None:
        return load_json_dataset(name, root)
    if name in SUBSETS and find_json(root, "OTB100") is not None:
        return load_json_dataset(name, root, find_json(root, "OTB100").name, videos=SUBSETS[name])
    dataset = load_otb_folder(name, root)
    if name in SUBSETS:
        return dataset.select([v for v in SUBSETS[name] if v in dataset])
    return dataset
