# Writes the harness's inputs with zarr-python. argv: MANIFEST_JSON, a list of
# {path, shape, chunks, dtype, role, storage, seed}; storage is "v3", "v3>"
# (big-endian bytes codec), "v2<" or "v2>" (big-endian dtype).
#
# Values are deterministic pseudo-random per dtype: ordinary values (small
# ones, zeros, the full integer range; floats of many magnitudes, halves) with
# specials sprinkled in: the integer limits and their neighbours, -1, 0, 1;
# NaN, +-inf, -0.0, subnormals and huge floats. Where the array holds at least
# m*m elements (m specials), its first m*m elements pair every special of x
# with every special of y. The role "n" holds integers 0 <= n < bits.
import json
import sys

import numpy as np
import zarr
from zarr.codecs import BytesCodec


def specials(dt):
    if dt.kind == "b":
        return np.array([False, True])
    if dt.kind in "iu":
        i = np.iinfo(dt)
        if dt.kind == "i":
            s = [i.min, i.min + 1, -1, 0, 1, i.max - 1, i.max]
        else:
            s = [0, 1, 2, i.max // 2, i.max // 2 + 1, i.max - 1, i.max]
        return np.array(s, dtype=dt)
    f = np.finfo(dt)
    big = 1e300 if dt == np.float64 else 1e36
    return np.array([np.nan, np.inf, -np.inf, -0.0, 0.0, f.smallest_subnormal, -f.smallest_normal / 3, big, -1.0, 2.5], dtype=dt)


def ordinary(dt, size, rng):
    if dt.kind == "b":
        return rng.random(size) < 0.5
    if dt.kind in "iu":
        i = np.iinfo(dt)
        full = rng.integers(i.min, i.max, size=size, endpoint=True, dtype=dt)
        small = np.clip(rng.integers(-20, 21, size=size), i.min, i.max).astype(dt)
        return np.where(rng.random(size) < 0.5, full, small)
    kinds = rng.integers(0, 4, size)
    sign = np.where(rng.random(size) < 0.5, -1.0, 1.0)
    choices = [
        rng.uniform(-1.2, 1.2, size),  # the domain of acos, asin, atanh
        rng.integers(-10, 11, size) / 2,  # halves: rounding ties, exact results
        sign * 10.0 ** rng.uniform(-6, 6, size),  # many magnitudes
        rng.uniform(-100, 100, size),
    ]
    return np.choose(kinds, choices).astype(dt)


def values(dt, shape, role, seed):
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if role == "n" and dt.kind in "iu":
        return rng.integers(0, 8 * dt.itemsize, size).astype(dt).reshape(shape)
    v = ordinary(dt, size, rng)
    if dt.kind != "b":
        s = specials(dt)
        mask = rng.random(size) < 0.2
        v[mask] = rng.choice(s, int(mask.sum()))
        m = len(s)
        if size >= m * m:
            k = np.arange(m * m)
            v[: m * m] = s[k % m] if role == "x" else s[k // m]
    return v.reshape(shape)


def write(spec):
    dt = np.dtype(spec["dtype"])
    data = values(dt, tuple(spec["shape"]), spec["role"], spec["seed"])
    storage = spec["storage"]
    kw = dict(store=spec["path"], shape=data.shape, chunks=tuple(spec["chunks"]))
    if storage.startswith("v2"):
        stored = dt.newbyteorder(">") if storage == "v2>" and dt.itemsize > 1 else dt
        a = zarr.create_array(**kw, dtype=stored, zarr_format=2)
    elif storage == "v3>":
        a = zarr.create_array(**kw, dtype=dt, zarr_format=3, serializer=BytesCodec(endian="big"))
    else:
        a = zarr.create_array(**kw, dtype=dt, zarr_format=3)
    a[...] = data
    back = np.asarray(zarr.open_array(spec["path"], mode="r")[...])
    np.testing.assert_array_equal(back, data, strict=False)


for spec in json.load(open(sys.argv[1])):
    write(spec)
