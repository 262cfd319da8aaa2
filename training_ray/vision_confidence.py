"""Train the default element-confidence model (supervised) with Ray Train + torch; ship it as ONNX.

Input: the data set written by ``vision_confidence_data.py`` (crops + probe features + "actionable
now" labels from the flaky site). Output: a versioned artifact directory (``model.onnx`` +
``manifest.json`` with version, sha256, parent, metrics) that the agent loads and hot-reloads; by
default the one shipped in ``arc_agent/data/models/vision_confidence``. The exported graph is
checked against torch with onnxruntime before it is written. Seeds make the run repeatable.

    python training_ray/vision_confidence_data.py --out build/vision_data/data.npz
    python training_ray/vision_confidence.py --data build/vision_data/data.npz

torch is needed only here (``pip install torch==2.13.0``), never in the agent.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
SHIPPED = os.path.join(ROOT, "arc_agent", "data", "models", "vision_confidence")


def build_model(n_features: int):
    import torch
    from torch import nn

    class ConfidenceNet(nn.Module):
        """Three strided convolutions over the 64x64 crop, pooled, joined with the DOM features."""

        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Sequential(
                nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(8, 16, 3, stride=2, padding=1), nn.ReLU(),
                nn.Conv2d(16, 16, 3, stride=2, padding=1), nn.ReLU(),
                nn.AdaptiveAvgPool2d(1), nn.Flatten())
            self.head = nn.Sequential(nn.Linear(16 + n_features, 32), nn.ReLU(), nn.Linear(32, 1))

        def forward(self, image, features):
            return torch.sigmoid(self.head(torch.cat([self.conv(image), features], dim=1)))

    return ConfidenceNet()


def split(n: int, seed: int, val_share: float = 0.2):
    import numpy as np

    order = np.random.default_rng(seed).permutation(n)
    cut = int(n * (1 - val_share))
    return order[:cut], order[cut:]


def auc(scores, labels) -> float:
    """Area under the ROC curve by the rank statistic (no sklearn needed)."""
    import numpy as np

    scores, labels = np.asarray(scores), np.asarray(labels)
    pos, neg = scores[labels > 0.5], scores[labels <= 0.5]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def evaluate(model, images, feats, labels) -> dict:
    import numpy as np
    import torch

    with torch.no_grad():
        p = model(torch.from_numpy(images), torch.from_numpy(feats)).numpy().reshape(-1)
    return {"accuracy": float(((p > 0.5) == (labels > 0.5)).mean()), "auc": auc(p, labels),
            "brier": float(np.mean((p - labels) ** 2)), "n": int(len(labels))}


def train_loop(config: dict) -> None:
    """Ray Train worker: full-batch-shuffled Adam on BCE; reports metrics and a checkpoint."""
    import numpy as np
    import torch
    from ray import train
    from ray.train import Checkpoint

    torch.manual_seed(config["seed"])
    data = np.load(config["data"])
    images = (data["images"].astype(np.float32) / 255.0)[:, None, :, :]
    feats, labels = data["features"].astype(np.float32), data["labels"].astype(np.float32)
    tr, va = split(len(labels), config["seed"])
    model = build_model(feats.shape[1])
    opt = torch.optim.Adam(model.parameters(), lr=config["lr"], weight_decay=1e-4)
    loss_fn = torch.nn.BCELoss()
    gen = torch.Generator().manual_seed(config["seed"])
    x_img, x_feat, y = (torch.from_numpy(a[tr]) for a in (images, feats, labels))
    best, best_state = None, None
    for epoch in range(config["epochs"]):
        model.train()
        for idx in torch.randperm(len(tr), generator=gen).split(config["batch"]):
            opt.zero_grad()
            loss = loss_fn(model(x_img[idx], x_feat[idx]).reshape(-1), y[idx])
            loss.backward()
            opt.step()
        model.eval()
        metrics = evaluate(model, images[va], feats[va], labels[va])
        metrics["epoch"] = epoch
        if best is None or metrics["brier"] < best["brier"]:
            best, best_state = dict(metrics), {k: v.clone() for k, v in model.state_dict().items()}
    with tempfile.TemporaryDirectory() as tmp:
        torch.save(best_state, os.path.join(tmp, "state.pt"))
        with open(os.path.join(tmp, "metrics.json"), "w") as fh:
            json.dump({"best": best, "train": evaluate(model, images[tr], feats[tr], labels[tr])}, fh)
        train.report(best, checkpoint=Checkpoint.from_directory(tmp))


def export_onnx(model, n_features: int) -> bytes:
    import torch

    model.eval()
    buf = io.BytesIO()
    torch.onnx.export(model, (torch.zeros(1, 1, 64, 64), torch.zeros(1, n_features)), buf,
                      input_names=["image", "features"], output_names=["confidence"],
                      dynamic_axes={"image": {0: "n"}, "features": {0: "n"}, "confidence": {0: "n"}},
                      opset_version=17, dynamo=False)
    return buf.getvalue()


def check_onnx(onnx_bytes: bytes, model, images, feats) -> float:
    """Largest |torch - onnxruntime| over the given inputs; the export must agree with training."""
    import numpy as np
    import onnxruntime as ort
    import torch

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    got = sess.run(["confidence"], {"image": images, "features": feats})[0]
    with torch.no_grad():
        want = model(torch.from_numpy(images), torch.from_numpy(feats)).numpy()
    return float(np.abs(got - want).max())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(ROOT, "build", "vision_data", "data.npz"))
    parser.add_argument("--out", default=SHIPPED, help="artifact directory to write")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    import numpy as np
    import ray
    import torch
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchTrainer

    from arc_agent.vision.artifacts import MANIFEST, write_artifact
    from arc_agent.vision.features import FEATURES

    data = np.load(args.data)
    if tuple(data["features"].shape[1:]) != (len(FEATURES),):
        raise SystemExit(f"{args.data}: features have shape {data['features'].shape}, expected "
                         f"(n, {len(FEATURES)}) for {FEATURES}; regenerate the data set")
    t0 = time.time()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir="/tmp/arc_ray",
             runtime_env={"env_vars": {"PYTHONPATH": ROOT}})
    try:
        trainer = TorchTrainer(
            train_loop, scaling_config=ScalingConfig(num_workers=1, use_gpu=False),
            train_loop_config={"data": os.path.abspath(args.data), "epochs": args.epochs,
                               "batch": args.batch, "lr": args.lr, "seed": args.seed},
            run_config=RunConfig(name="vision_confidence", storage_path="/tmp/arc_ray/results"))
        result = trainer.fit()
        with result.checkpoint.as_directory() as ckpt:
            state = torch.load(os.path.join(ckpt, "state.pt"))
            with open(os.path.join(ckpt, "metrics.json")) as fh:
                metrics = json.load(fh)
    finally:
        ray.shutdown()

    model = build_model(len(FEATURES))
    model.load_state_dict(state)
    onnx_bytes = export_onnx(model, len(FEATURES))
    images = (data["images"][:256].astype(np.float32) / 255.0)[:, None, :, :]
    drift = check_onnx(onnx_bytes, model, images, data["features"][:256].astype(np.float32))
    if drift > 1e-4:
        raise SystemExit(f"onnx export disagrees with torch by {drift}; not writing the model")

    parent = None
    try:
        with open(os.path.join(args.out, MANIFEST)) as fh:
            parent = json.load(fh).get("version")
    except (OSError, ValueError):
        pass
    version = time.strftime("vc-%Y%m%d-") + hashlib.sha256(onnx_bytes).hexdigest()[:8]
    manifest = write_artifact(
        args.out, "model.onnx", onnx_bytes, version, name="vision_confidence", parent=parent,
        features=list(FEATURES), inputs={"image": [None, 1, 64, 64], "features": [None, len(FEATURES)]},
        outputs={"confidence": [None, 1]},
        metrics={"validation": metrics["best"], "train": metrics["train"], "onnx_max_abs_diff": drift},
        dataset={"path": os.path.relpath(os.path.abspath(args.data), ROOT), "samples": int(len(data["labels"])),
              "positive_share": float(data["labels"].mean()), "seed": int(data["seed"]),
              "loads": int(data["loads"])},
        trainer={"script": "training_ray/vision_confidence.py", "epochs": args.epochs, "batch": args.batch,
                 "lr": args.lr, "seed": args.seed, "torch": torch.__version__})
    print(json.dumps({"version": manifest["version"], "validation": metrics["best"],
                      "seconds": round(time.time() - t0, 1)}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
