#!/usr/bin/env python3
"""Writes the seed corpus, seeds/<target>/seed-<i>: inputs that are valid calls.

For the targets that draw their problem from a seed, a seed input is the sizes and options
bytes and the 8 seed bytes, with no mutation bytes after them (the harness reads those lengths).
For wire_decode, a seed is a valid wire message. Deterministic: rerun it to regenerate.
Beside them, seeds/<target>/finding-<what> are inputs on which fuzzing once found a defect (each
with its regression test in tests/audit_regressions.rs), replayed on every fuzzing run.
"""
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(2026)


def seed_bytes():
    return bytes(rng.randrange(256) for _ in range(8))


def header_only(n_option_bytes):
    return bytes(rng.randrange(256) for _ in range(n_option_bytes)) + seed_bytes()


def cmlr():
    d, m = rng.randrange(256), rng.randrange(6)  # m = 1 + m % 6 nodes
    sizes = bytes(4 for _ in range(1 + m))  # 5 samples a node: N >= d
    return bytes([d, m]) + sizes + bytes(rng.randrange(256) for _ in range(6)) + seed_bytes()


def mixreg():
    k, d, intercept, m = (rng.randrange(256) for _ in range(4))
    sizes = bytes(rng.randrange(256) for _ in range(1 + m % 30))
    return bytes([k, d, intercept, m]) + sizes + bytes(rng.randrange(256) for _ in range(5)) + seed_bytes()


def gmm():
    options = [rng.randrange(256) for _ in range(11)]
    options[3] = rng.randrange(9, 39)  # n = 1 + byte % 40 >= 10 >= K
    return bytes(options) + seed_bytes()


def wire_message():
    k, d, full = rng.randrange(1, 4), rng.randrange(1, 4), rng.randrange(2)
    w = [rng.uniform(0.2, 1.2) for _ in range(k)]
    w = [v / sum(w) for v in w]
    mu = [rng.gauss(0, 3) for _ in range(k * d)]
    covs = []
    for _ in range(k):
        for a in range(d):
            for b in range(a + 1 if full else 1):
                covs.append(rng.uniform(1.0, 2.0) if (not full or a == b) else rng.uniform(-0.1, 0.1))
    body = b"MKGM" + struct.pack("<HBBIIQ", 1, 0 if full else 1, 0, k, d, rng.randrange(1, 10**6))
    body += struct.pack(f"<{len(w) + len(mu) + len(covs)}d", *(w + mu + covs))
    return body + struct.pack("<I", zlib.crc32(body))


TARGETS = {
    "wire_decode": wire_message,
    "l2_pairwise": lambda: header_only(4),
    "aggregate_messages": lambda: header_only(5),
    "gmm_fit": gmm,
    "reduce_mm": lambda: header_only(10),
    "cmlr_fit": cmlr,
    "mixreg_fit": mixreg,
    "mixreg_fit_grouped": mixreg,
}

for target, make in TARGETS.items():
    folder = os.path.join(HERE, "seeds", target)
    os.makedirs(folder, exist_ok=True)
    for i in range(4):
        with open(os.path.join(folder, f"seed-{i}"), "wb") as f:
            f.write(make())
