#!/usr/bin/env python3
"""Predicts with a model exported by `hardy-mer export`, using only NumPy: proof that the file and
its sidecar say enough to rebuild the model outside hardy-mer (test/run/export.test.ts compares
the probabilities with `hardy-mer predict` to 1e-5).

    python3 scripts/export_forward.py MODEL.safetensors REQUEST.json

REQUEST.json: {"dialogues": [{"id": ..., "utterances": [{"id": ..., "features": {"a": [...], ...}}]}]}
(the body of POST /predict; each utterance uses the models of the modalities it brings).
Prints {"<utterance id>": [probabilities...] (or [score])}.

The safetensors header is parsed by hand (8-byte little-endian length, JSON, raw data), so no
safetensors package is needed. The forward pass follows the sidecar's `weightNames`.
"""
import json
import math
import struct
import sys

import numpy as np

MODALITIES = "atv"


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    base = 8 + n
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] != "F32":
            raise ValueError(f"{name}: dtype {entry['dtype']}")
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[base + begin : base + end], dtype="<f4").reshape(entry["shape"]).astype(np.float64)
    return tensors


def linear(x, w, name):
    """nn.Linear: x weight^T + bias."""
    return x @ w[name + ".weight"].T + w[name + ".bias"]


_erf = np.vectorize(math.erf)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def feature_pipeline(x, w, prefix, m, finetune):
    """Raw features [S, d] of modality m -> what the model reads."""
    if finetune:
        x = linear(np.maximum(linear(x, w, f"{prefix}{m}.fc1"), 0.0), w, f"{prefix}{m}.fc2")
    if m == "t":
        norm = np.linalg.norm(x, axis=1, keepdims=True)
        x = np.where(norm > 0, x / np.where(norm > 0, norm, 1.0), 0.0)
    return x


def attention(z, w, name, key_mask, heads):
    """Self-attention across the S utterances of one dialogue; keys where key_mask is 1."""
    q, k, v = (linear(z, w, f"{name}.{p}") for p in "qkv")
    S, D = z.shape
    dh = D // heads
    out = np.zeros((S, D))
    if not key_mask.any():
        return out  # no key: every query gets zeros
    for h in range(heads):
        s = slice(h * dh, (h + 1) * dh)
        scores = q[:, s] @ k[:, s].T / math.sqrt(dh)
        scores = np.where(key_mask[None, :] > 0, scores, -np.inf)
        out[:, s] = softmax(scores) @ v[:, s]
    return out


def student(x, avail, w, prefix, arch):
    """x: modality -> [S, d_m] pipeline features; avail [S, 3] -> logits [S, C]."""
    reps = []
    for i, m in enumerate(MODALITIES):
        mask = avail[:, i]
        z = linear(x[m] * mask[:, None], w, f"{prefix}proj.{m}")
        for l in range(arch["depth"]):
            block = f"{prefix}expert.{m}.l{l}"
            a = attention(z, w, f"{block}.attn", mask, arch["heads"])
            z = z + a + linear(gelu(linear(a, w, f"{block}.mlp.fc1")), w, f"{block}.mlp.fc2")
        reps.append(z * mask[:, None])
    zc = np.concatenate(reps, axis=1)
    u = zc + np.maximum(linear(zc, w, f"{prefix}fusion.W1"), 0.0)
    return linear(u, w, f"{prefix}fusion.out")


def main(model_path, request_path):
    sidecar_path = model_path[: -len(".safetensors")] + ".json"
    with open(sidecar_path) as f:
        sidecar = json.load(f)
    if sidecar["kind"] != "student":
        raise SystemExit(f"{model_path}: a {sidecar['kind']} model; this script rebuilds the student")
    w = read_safetensors(model_path)
    arch = sidecar["architecture"]
    finetune = sidecar["featurePipeline"]["finetune"]
    regression = sidecar["corpus"]["task"] == "regression"
    with open(request_path) as f:
        request = json.load(f)
    out = {}
    for dialogue in request["dialogues"]:
        utts = dialogue["utterances"]
        S = len(utts)
        conds = ["".join(m for m in MODALITIES if m in u["features"]) for u in utts]
        avail = np.array([[1.0 if m in c else 0.0 for m in MODALITIES] for c in conds])
        for cond in sorted(set(conds)):
            members = [mb for mb in sidecar["members"] if cond in mb["serves"]]
            if not members:
                raise SystemExit(f"no member serves condition {cond}")
            total = 0.0
            for mb in members:
                x = {}
                for m in MODALITIES:
                    raw = np.zeros((S, arch["dims"][m]))
                    for s, u in enumerate(utts):
                        if m in u["features"]:
                            raw[s] = u["features"][m]
                    x[m] = feature_pipeline(raw, w, mb["features"], m, finetune) * avail[:, MODALITIES.index(m)][:, None]
                logits = student(x, avail, w, mb["model"], arch)
                total = total + (logits if regression else softmax(logits))
            mean = total / len(members)
            for s, u in enumerate(utts):
                if conds[s] == cond:
                    out[u["id"]] = mean[s].tolist()
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
