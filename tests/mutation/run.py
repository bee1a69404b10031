"""Rerunnable mutation check: apply each representative mutation to a copy of the tree, run the
tests that should catch it, report which survive (JSON).

    python tests/mutation/run.py                  # every mutant in MUTANTS
    python tests/mutation/run.py --only T1 TA2    # some of them
    python tests/mutation/run.py --list           # ids and descriptions
    python tests/mutation/run.py --out /tmp/mutation.json

The tree (tracked and untracked, non-ignored files: ``git ls-files -co --exclude-standard``) is
copied once to a temporary folder; each mutant replaces ``old`` by ``new`` in one file of the copy
(``old`` must occur exactly once, else the mutant is reported ``stale``: the code changed, update
the list), runs ``python -m pytest -x -q`` on its test files there (the copy's packages come first
on ``sys.path``: ``PYTHONPATH`` and the working directory are the copy), and restores the file. A
mutant is ``killed`` when pytest fails, ``survived`` when it passes. A baseline run of every test
file used, unmutated, must pass first. Mutants are plain text substitutions, so the list doubles as
a record of what the suite is known to catch; keep each mutant's tests to the files that should
catch it (CPU is scarce).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TRACKER = "pysot/tracker/siamrpn_tracker.py"
LT = "pysot/tracker/siamrpnlt_tracker.py"
TA = "pysot/models/target_aware.py"
CFG = "pysot/config.py"
# pytest's -k applies to every file given, so parity cases are selected by node id
PARITY = ["tests/test_pysot_parity.py::test_tracker_matches_pysot[alex]"]
LT_TESTS = ["tests/test_pysot_parity.py::test_tracker_matches_pysot[alex_lt]"]
TRACK_TESTS = ["tests/test_tracker.py", *PARITY]
TA_TESTS = [
    "tests/test_ta_exact.py",
    "tests/test_target_aware.py",
    "-k",
    "not tracker and not model and not video",
]
CFG_TESTS = ["tests/test_config_pinned.py"]
EVAL_TESTS = ["tests/test_eval_edges.py"]


def m(mid, file, old, new, tests, what):
    return dict(id=mid, file=file, old=old, new=new, tests=tests, what=what)


MUTANTS = [
    # ------------------------------------------------------------------ tracker
    m(
        "T1",
        TRACKER,
        "delta[0, :] * anchor[:, 2] + anchor[:, 0]",
        "delta[0, :] * anchor[:, 3] + anchor[:, 0]",
        TRACK_TESTS,
        "x offset decoded with the anchor's height",
    ),
    m(
        "T2",
        TRACKER,
        "delta[1, :] * anchor[:, 3] + anchor[:, 1]",
        "delta[1, :] * anchor[:, 2] + anchor[:, 1]",
        TRACK_TESTS,
        "y offset decoded with the anchor's width",
    ),
    m(
        "T3",
        TRACKER,
        "np.exp(delta[2, :]) * anchor[:, 2]",
        "(1 + delta[2, :]) * anchor[:, 2]",
        TRACK_TESTS,
        "width decoded linearly instead of exp",
    ),
    m(
        "T4",
        TRACKER,
        "cx = max(0, min(cx, boundary[1]))",
        "cx = max(0, min(cx, boundary[0]))",
        TRACK_TESTS,
        "x clipped with the image height",
    ),
    m(
        "T5",
        TRACKER,
        "height = max(10, min(height, boundary[0]))",
        "height = max(1, min(height, boundary[0]))",
        TRACK_TESTS,
        "minimum height 1 instead of 10",
    ),
    m(
        "T6",
        "toolkit/boxes.py",
        "np.stack([rect[..., 0] + (rect[..., 2] - 1) / 2,",
        "np.stack([rect[..., 0] + rect[..., 2] / 2,",
        TRACK_TESTS,
        "init centre x + w/2 instead of x + (w-1)/2 (toolkit.boxes.pixel_center)",
    ),
    m(
        "T7",
        TRACKER,
        "penalty = np.exp(-(r_c * s_c - 1) * self.penalty_k)",
        "penalty = np.exp(-(r_c + s_c - 2) * self.penalty_k)",
        TRACK_TESTS,
        "scale/ratio penalty added, not multiplied",
    ),
    m(
        "T8",
        TRACKER,
        "r_c = change((self.size[0] / self.size[1]) /",
        "r_c = change((self.size[1] / self.size[0]) /",
        TRACK_TESTS,
        "aspect ratio of the target inverted in the penalty",
    ),
    m(
        "T9",
        TRACKER,
        "pad = (w + h) * 0.5",
        "pad = (w + h) * 0.25",
        TRACK_TESTS,
        "context pad of sz() halved",
    ),
    m(
        "T10",
        TRACKER,
        "lr = penalty[best_idx] * score[best_idx] * self.lr",
        "lr = score[best_idx] * self.lr",
        TRACK_TESTS,
        "size smoothing without the penalty",
    ),
    m(
        "T11",
        TRACKER,
        "pscore = pscore * (1 - self.window_influence) + self.window * self.window_influence",
        "pscore = pscore + self.window * self.window_influence",
        TRACK_TESTS,
        "window blend without (1 - influence)",
    ),
    m(
        "T12",
        TRACKER,
        "return F.softmax(score, dim=1)[:, 1]",
        "return F.softmax(score, dim=1)[:, 0]",
        TRACK_TESTS,
        "background probability used as the score",
    ),
    m(
        "T13",
        "toolkit/boxes.py",
        "return np.array([pos[0] - sz[0] / 2, pos[1] - sz[1] / 2, sz[0], sz[1]])",
        "return np.array([pos[0] - sz[0] / 2 + 0.5, pos[1] - sz[1] / 2, sz[0], sz[1]])",
        TRACK_TESTS,
        "returned x shifted by half a pixel (toolkit.boxes.cxy_wh_2_rect)",
    ),
    m(
        "T14",
        "pysot/tracker/base_tracker.py",
        "c = (original_sz + 1) / 2\n    return",
        "c = original_sz / 2\n    return",
        TRACK_TESTS,
        "crop window origin floor(p - sz/2 + 0.5) instead of (sz+1)/2",
    ),
    m(
        "T15",
        "pysot/utils/anchor.py",
        "            hs = int(ws * r)",
        "            hs = round(ws * r)",
        TRACK_TESTS,
        "anchor height rounded instead of truncated",
    ),
    m(
        "LT1",
        LT,
        "if best_score >= self.confidence_low:",
        "if True:",
        LT_TESTS,
        "long-term tracker updates the box while lost",
    ),
    m(
        "LT2",
        LT,
        "        if best_score < self.confidence_low:\n            self.longterm_state = True",
        "        if best_score < self.confidence_low:\n            self.longterm_state = False",
        LT_TESTS,
        "never enters the long-term state",
    ),
    m(
        "LT3",
        LT,
        "LOST_WINDOW_INFLUENCE = 0.001",
        "LOST_WINDOW_INFLUENCE = 0.44",
        LT_TESTS,
        "lost search keeps the normal window",
    ),
    # ------------------------------------------------------------------ target-aware
    m(
        "TA1",
        TA,
        "gamma = m * gamma + (2.0 / n) * res + wd * alpha",
        "gamma = m * gamma + (2.0 / n) * res",
        TA_TESTS,
        "dual without the weight-decay term (weights)",
    ),
    m(
        "TA2",
        TA,
        "delta = m * delta + wd * beta",
        "delta = m * delta",
        TA_TESTS,
        "dual without the weight-decay term (initial-weight coefficient)",
    ),
    m(
        "TA3",
        TA,
        "buf.mul_(m).add_(grad + wd * param)",
        "buf.mul_(m).add_(grad)",
        TA_TESTS,
        "sgd without weight decay",
    ),
    m(
        "TA4",
        TA,
        "REPORTED_WEIGHT_PENALTY = 1e-4",
        "REPORTED_WEIGHT_PENALTY = 0.0",
        TA_TESTS,
        "stop rule on the mse alone",
    ),
    m(
        "TA5",
        TA,
        "counts.append(max(1, int(spec * total + 0.5)))",
        "counts.append(max(1, round(spec * total)))",
        TA_TESTS,
        "channel fractions rounded half to even",
    ),
    m(
        "TA6",
        TA,
        "order = torch.argsort(importance, descending=True, stable=True)",
        "order = torch.argsort(importance.abs(), descending=True, stable=True)",
        TA_TESTS,
        "top-k by |importance|",
    ),
    m(
        "TA7",
        TA,
        "label = torch.exp(-alpha * (",
        "label = torch.exp(-2 * alpha * (",
        TA_TESTS,
        "label twice as narrow",
    ),
    m(
        "TA8",
        TA,
        "return max(1, 2 * math.ceil((template_side - 8) / 2) + 1)",
        "return max(1, 2 * math.floor((template_side - 8) / 2) + 1)",
        TA_TESTS,
        "regression kernel size rounded down",
    ),
    m(
        "TA9",
        TA,
        "alpha = alpha - lr * gamma",
        "alpha = alpha - lr * (gamma + 0.0 * alpha) * 1.001",
        TA_TESTS,
        "dual step 0.1 % too long",
    ),
    # ------------------------------------------------------------------ config
    m(
        "C1",
        CFG,
        "_C.TA.MOMENTUM = [0.98, 0.93, 0.9]",
        "_C.TA.MOMENTUM = [0.9, 0.93, 0.9]",
        CFG_TESTS,
        "TA.MOMENTUM default changed",
    ),
    m(
        "C2",
        CFG,
        "_C.TA.SIGMA_FACTOR = 0.1",
        "_C.TA.SIGMA_FACTOR = 0.2",
        CFG_TESTS,
        "TA.SIGMA_FACTOR default changed",
    ),
    m(
        "C3",
        CFG,
        "_C.TRACK.PENALTY_K = 0.04",
        "_C.TRACK.PENALTY_K = 0.05",
        CFG_TESTS,
        "TRACK.PENALTY_K changed",
    ),
    m(
        "C4",
        CFG,
        "_C.TRACK.LOST_INSTANCE_SIZE = 831",
        "_C.TRACK.LOST_INSTANCE_SIZE = 767",
        CFG_TESTS,
        "TRACK.LOST_INSTANCE_SIZE changed",
    ),
    m(
        "C5",
        CFG,
        "_C.TA.MIN_CHANNELS = 256",
        "_C.TA.MIN_CHANNELS = 128",
        CFG_TESTS,
        "TA.MIN_CHANNELS changed",
    ),
    m("C6", TA, "momentum=ta.MOMENTUM,", "momentum=ta.LR,", CFG_TESTS, "from_config reads the wrong key"),
    m(
        "C7",
        CFG,
        "_C.ANCHOR.RATIOS = [0.33, 0.5, 1, 2, 3]",
        "_C.ANCHOR.RATIOS = [0.33, 0.5, 1, 2, 4]",
        CFG_TESTS,
        "anchor ratios changed",
    ),
    # ------------------------------------------------------------------ evaluation
    m(
        "E1",
        "toolkit/evaluation/eao.py",
        "[x + skipping for x in fails if x + skipping <= len(ov)]",
        "[x + skipping for x in fails if x + skipping < len(ov)]",
        EVAL_TESTS,
        "EAO: a failure exactly at the skip boundary dropped (reference path)",
    ),
    m(
        "E2",
        "toolkit/evaluation/fastpath.py",
        "[x + skipping for x in fl if x + skipping <= n]",
        "[x + skipping for x in fl if x + skipping < n]",
        EVAL_TESTS,
        "EAO: a failure exactly at the skip boundary dropped (fast path)",
    ),
    m(
        "E3",
        "toolkit/evaluation/aggregate.py",
        "eao_bound = (video.width - 1, video.height - 1)",
        "eao_bound = (video.width, video.height)",
        EVAL_TESTS,
        "EAO overlaps with the accuracy bounds",
    ),
    m(
        "E4",
        "toolkit/evaluation/aggregate.py",
        "bound = (video.width, video.height)\n",
        "bound = (video.height, video.width)\n",
        EVAL_TESTS,
        "accuracy bounds (h, w)",
    ),
    m(
        "E5",
        "toolkit/evaluation/fastpath.py",
        "self.bound_eao = _bounds(w - 1, h - 1)",
        "self.bound_eao = _bounds(w, h)",
        EVAL_TESTS,
        "EAO overlaps with the accuracy bounds (fast path)",
    ),
    m(
        "E6",
        "toolkit/evaluation/ope.py",
        "box_norm_center(pred, gt[:, 2:4]), NORM_PRECISION_THRESHOLDS",
        "box_norm_center(pred, gt[:, [3, 2]]), NORM_PRECISION_THRESHOLDS",
        EVAL_TESTS,
        "normalised precision divides x by the ground truth's height",
    ),
    m(
        "E7",
        "toolkit/evaluation/fastpath.py",
        "dx = gt_norm[i, 0] - cx / (gt[i, 2] + 1e-16)",
        "dx = gt_norm[i, 0] - cx / (gt[i, 3] + 1e-16)",
        EVAL_TESTS,
        "normalised precision divides x by the ground truth's height (fast path)",
    ),
    m(
        "E8",
        "toolkit/evaluation/ar.py",
        "counts[i : i + burnin] = 1",
        "counts[i : i + burnin - 1] = 1",
        EVAL_TESTS,
        "burn-in one frame short",
    ),
    m(
        "E9",
        "toolkit/evaluation/ar.py",
        '"robustness": float(np.mean(per_rep / length) * 100)',
        '"robustness": float(np.mean(per_rep / (length + 1)) * 100)',
        EVAL_TESTS,
        "robustness denominator off by one",
    ),
]


def copy_tree(dest: Path) -> None:
    files = (
        subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True, capture_output=True
        )
        .stdout.decode()
        .split("\0")
    )
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def run_pytest(copy: Path, args: list[str], timeout: int) -> tuple[int, float, str]:
    env = dict(os.environ, PYTHONPATH=str(copy), PYTHONDONTWRITEBYTECODE="1")
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *args],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        code, tail = proc.returncode, (proc.stdout + proc.stderr).strip().splitlines()[-1:]
    except subprocess.TimeoutExpired:
        code, tail = -1, ["timeout"]
    return code, time.perf_counter() - start, tail[0] if tail else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="mutant ids")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--out", help="write the JSON report here too")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per pytest run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated run")
    args = parser.parse_args(argv)
    mutants = [x for x in MUTANTS if not args.only or x["id"] in args.only]
    if args.list:
        for x in mutants:
            print(f"{x['id']:5} {x['file']}: {x['what']}")
        return 0
    report = {"mutants": {}, "baseline": {}}
    with tempfile.TemporaryDirectory(prefix="mutation_") as tmp:
        copy = Path(tmp)
        copy_tree(copy)
        check = subprocess.run(
            [sys.executable, "-c", "import pysot, toolkit; print(pysot.__file__, toolkit.__file__)"],
            cwd=copy,
            env=dict(os.environ, PYTHONPATH=str(copy)),
            capture_output=True,
            text=True,
        ).stdout.split()
        if not all(p.startswith(str(copy)) for p in check):
            print(f"the copy's packages are not the ones imported: {check}", file=sys.stderr)
            return 2
        if not args.no_baseline:
            for tests in {json.dumps(x["tests"]) for x in mutants}:
                code, secs, tail = run_pytest(copy, json.loads(tests), args.timeout)
                report["baseline"][" ".join(json.loads(tests))] = dict(
                    passed=code == 0, seconds=round(secs, 1), tail=tail
                )
                if code != 0:
                    print(f"baseline fails: {tests}: {tail}", file=sys.stderr)
                    print(json.dumps(report, indent=1))
                    return 2
        for x in mutants:
            path = copy / x["file"]
            original = path.read_text()
            if original.count(x["old"]) != 1:
                result = dict(status="stale", detail=f"'old' occurs {original.count(x['old'])} times")
            else:
                path.write_text(original.replace(x["old"], x["new"]))
                try:
                    code, secs, tail = run_pytest(copy, x["tests"], args.timeout)
                finally:
                    path.write_text(original)
                result = dict(status="survived" if code == 0 else "killed", seconds=round(secs, 1), tail=tail)
            result.update(file=x["file"], what=x["what"], tests=" ".join(x["tests"]))
            report["mutants"][x["id"]] = result
            print(f"{x['id']:5} {result['status']:8} {x['what']}", file=sys.stderr, flush=True)
    report["survivors"] = [k for k, v in report["mutants"].items() if v["status"] == "survived"]
    report["stale"] = [k for k, v in report["mutants"].items() if v["status"] == "stale"]
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 1 if report["survivors"] else 0


if __name__ == "__main__":
    sys.exit(main())
