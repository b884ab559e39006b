#!/usr/bin/env python3
"""Convert facenet-pytorch's MTCNN weights (pnet/rnet/onet .pt state dicts, MIT licence) into
models/mtcnn/{pnet,rnet,onet}.safetensors. Tensor names and layouts are the state dicts' own;
the Swift loader does any reordering (R-Net/O-Net dense layers read a (W, H, C) flattening).

    /work/venv/bin/python tools/convert_mtcnn.py [--out models/mtcnn]
"""
import argparse
import hashlib
import importlib.metadata
import os

import facenet_pytorch
import torch
from safetensors.torch import save_file


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "models", "mtcnn"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    data = os.path.join(os.path.dirname(facenet_pytorch.__file__), "data")
    for net in ("pnet", "rnet", "onet"):
        src = os.path.join(data, f"{net}.pt")
        sd = torch.load(src, map_location="cpu")
        tensors = {k: v.detach().float().contiguous() for k, v in sd.items()}
        with open(src, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        meta = {
            "source": f"facenet-pytorch {importlib.metadata.version('facenet-pytorch')} data/{net}.pt",
            "source_sha256": sha,
            "licence": "MIT (facenet-pytorch); original MTCNN weights by Zhang et al. 2016",
        }
        dst = os.path.join(args.out, f"{net}.safetensors")
        save_file(tensors, dst, metadata=meta)
        print(f"{dst}: {len(tensors)} tensors, " + ", ".join(f"{k}{list(v.shape)}" for k, v in tensors.items()))


if __name__ == "__main__":
    main()
