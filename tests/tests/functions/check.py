# Compares cubed-rs's outputs with numpy. argv: MANIFEST_JSON RESULT_JSON.
#
# The manifest holds groups {inputs: {name: path}, cases: [{key, out, numpy,
# compare}]} and refused [{key, numpy, inputs, error?}]: cases cubed-rs does
# not compute for those dtypes (its table does not run them, or it refused
# them with `error`), to ask whether numpy computes them.
# RESULT_JSON gets {failures: [{key, message}], computes: [{key, dtype, error}]}.
import json
import os
import sys
import traceback
import warnings

import numpy as np
import zarr

warnings.simplefilter("ignore")
np.seterr(all="ignore")

_inputs = {}


def load(path):
    if path not in _inputs:
        a = np.asarray(zarr.open_array(path, mode="r")[...])
        _inputs[path] = a.astype(a.dtype.newbyteorder("="))
    return _inputs[path]


def moving(x, window, axis):
    """The reference for moving_sum: pandas' rolling(window).sum() along
    axis (NaN until the window is full), summed in float64; float32 stays
    float32."""
    xm = np.moveaxis(x.astype(np.float64), axis, -1)
    out = np.full(xm.shape, np.nan)
    if xm.shape[-1] >= window:
        out[..., window - 1:] = np.lib.stride_tricks.sliding_window_view(xm, window, axis=-1).sum(-1)
    out = np.moveaxis(out, -1, axis)
    return out.astype(np.float32) if x.dtype == np.float32 else out


def evaluate(expr, env):
    return np.asarray(eval(expr, {"np": np, "moving": moving}, dict(env)))


def numpy_result(expr, env):
    r = evaluate(expr, env)
    # THE documented difference, in this one place: cubed-rs has no float16.
    # Where numpy returns float16 (functions on reals -- sqrt, sin, atan2,
    # copysign, ... -- of bool, int8 and uint8), cubed-rs computes in float32
    # (DType::to_float): compare with numpy computing from float32 inputs.
    if r.dtype == np.float16:
        env32 = {k: v.astype(np.float32) if v.dtype.kind in "biu" else v for k, v in env.items()}
        r = evaluate(expr, env32)
        assert r.dtype == np.float32, f"numpy gives float16, and {r.dtype} from float32 inputs"
    return r


def describe_at(i, got, exp, env):
    parts = [f"at {i}:"]
    for k, v in env.items():
        if v.shape == got.shape:
            parts.append(f"{k}={v[i]!r}")
    parts.append(f"cubed={got[i]!r} numpy={exp[i]!r}")
    return " ".join(parts)


def order_sensitive(case, exp, env):
    """Where a product could leave exp's normal range in some order of
    multiplication: the product of the magnitudes above 1 exceeds its max, or
    that of those below 1 (subnormals included) falls below its smallest
    normal. Computed in a wider type; where it saturates, it still does so
    beyond exp's range."""
    wide = np.longdouble if exp.dtype == np.float64 else np.float64
    f = np.finfo(exp.dtype)
    mags = {k: np.abs(v.astype(wide)) for k, v in env.items()}
    big = evaluate(case["numpy"], {k: np.where(np.isfinite(m) & (m > 1), m, 1) for k, m in mags.items()})
    small = evaluate(case["numpy"], {k: np.where((m > 0) & (m < 1), m, 1) for k, m in mags.items()})
    return (big > f.max) | (small < f.smallest_normal)


def compare(case, got, exp, env):
    """None when equal, else what differs."""
    if got.shape != exp.shape:
        return f"shape {got.shape}, numpy's {exp.shape}"
    if got.dtype != exp.dtype:
        return f"dtype {got.dtype}, numpy's {exp.dtype}"
    mode = case["compare"]
    if mode == "random":
        if got.size and not ((got >= 0).all() and (got < 1).all()):
            return f"random values outside [0, 1): min {got.min()!r} max {got.max()!r}"
        if got.size > 1 and (got == got.flat[0]).all():
            return f"random values all equal {got.flat[0]!r}"
        return None
    if exp.dtype.kind in "biu":
        bad = got != exp
        x = env.get("x")
        if mode == "cast" and exp.dtype.kind != "b" and x is not None and x.dtype.kind == "f":
            # numpy leaves casts of floats the integer type cannot hold to the platform.
            bits = 8 * exp.dtype.itemsize
            lo, hi = (-(2.0 ** (bits - 1)), 2.0 ** (bits - 1)) if exp.dtype.kind == "i" else (0.0, 2.0**bits)
            t = np.trunc(x.astype(np.float64))
            bad = bad & np.isfinite(t) & (t >= lo) & (t < hi)
    else:
        rtol = 1e-12 if exp.dtype == np.float64 else 1e-5
        tol = rtol * np.abs(exp)
        overflows = False
        if mode in ("accumulated", "product"):
            absenv = {k: np.abs(v.astype(np.float64)) for k, v in env.items()}
            n = max([v.size for v in env.values()] + [1])
            tol = tol + 2 * n * np.finfo(exp.dtype).eps * evaluate(case["numpy"], absenv)
            # Where even the sum of the terms' magnitudes leaves exp's range
            # (computed wider), a partial sum overflows in some order but not
            # in another (inf - inf is NaN in one, -inf in the other): any
            # value is accepted there, as for products.
            wide = np.longdouble if exp.dtype == np.float64 else np.float64
            with np.errstate(all="ignore"):
                mags = evaluate(case["numpy"], {k: np.abs(v.astype(wide)) for k, v in env.items()})
            overflows = np.isfinite(mags) & (mags > np.finfo(exp.dtype).max) if mode == "accumulated" else False
            if mode == "accumulated":
                # Where a term is infinite, terms of both signs make IEEE
                # addition give NaN (cubed-rs, and np.sum of the products),
                # while numpy's matmul (BLAS) may give +-inf: NaN is accepted.
                overflows = overflows | (np.isinf(mags) & np.isinf(exp) & np.isnan(got))
                # Sums landing among subnormals round to their fixed spacing:
                # up to one subnormal step per term in another order.
                tol = tol + n * np.finfo(exp.dtype).smallest_subnormal
        nan_g, nan_e = np.isnan(got), np.isnan(exp)
        bad = nan_g != nan_e
        both = ~nan_g & ~nan_e
        inf = both & (np.isinf(got) | np.isinf(exp))
        bad |= inf & (got != exp)
        fin = both & ~inf
        bad |= fin & ~(np.abs(got.astype(np.float64) - exp) <= tol)
        if mode not in ("accumulated", "any_zero_sign"):
            # Where numpy's result is exact (not an accumulation in another
            # order) and its sign specified, zeros must have the same sign.
            zero = fin & (got == 0) & (exp == 0)
            bad |= zero & (np.signbit(got) != np.signbit(exp))
        if mode == "product":
            bad &= ~order_sensitive(case, exp, env)
        bad &= ~np.asarray(overflows)
    bad = np.asarray(bad)
    if not bad.any():
        return None
    where = list(zip(*np.nonzero(bad))) if bad.ndim else [()]
    shown = [describe_at(tuple(int(j) for j in i), got, exp, env) for i in where[:4]]
    return f"{int(bad.sum())} of {bad.size} values differ: " + "; ".join(shown)


def check(case, env):
    try:
        exp = numpy_result(case["numpy"], env)
    except Exception as e:
        return f"numpy raises {type(e).__name__}: {e}, but cubed-rs computes it"
    got = np.asarray(zarr.open_array(case["out"], mode="r")[...])
    return compare(case, got, exp, env)


def run(groups, refused):
    failures, computes = [], []
    for group in groups:
        env = {k: load(p) for k, p in group["inputs"].items()}
        for case in group["cases"]:
            try:
                message = check(case, env)
            except Exception as e:
                message = f"the check raised {type(e).__name__}: {e}"
            if message is not None:
                failures.append({"key": case["key"], "message": message})
    for r in refused:
        env = {k: load(p) for k, p in r["inputs"].items()}
        try:
            dtype = str(numpy_result(r["numpy"], env).dtype)
        except Exception:
            continue
        computes.append({"key": r["key"], "dtype": dtype, "error": r.get("error")})
    return {"failures": failures, "computes": computes}


def split(items, weight, n):
    """`items` in n consecutive parts of about equal total weight."""
    total = sum(weight(i) for i in items) or 1
    parts, acc = [[] for _ in range(n)], 0
    for i in items:
        parts[min(n - 1, acc * n // total)].append(i)
        acc += weight(i)
    return parts


def main():
    manifest = json.load(open(sys.argv[1]))
    # Reading the outputs with zarr-python takes most of the time: one process
    # per core (up to 4), each with consecutive groups. zarr is not used before
    # the fork, so each child starts its own event loop.
    n = max(1, min(4, len(os.sched_getaffinity(0))))
    groups = split(manifest["groups"], lambda g: len(g["cases"]), n)
    refused = split(manifest["refused"], lambda r: 1, n)
    children = []
    for k in range(1, n):
        part = f"{sys.argv[2]}.{k}"
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                json.dump(run(groups[k], refused[k]), open(part, "w"))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append((pid, part))
    result = run(groups[0], refused[0])
    for pid, part in children:
        _, status = os.waitpid(pid, 0)
        assert status == 0, f"check process {pid} failed (status {status})"
        r = json.load(open(part))
        os.remove(part)
        for key in result:
            result[key].extend(r[key])
    json.dump(result, open(sys.argv[2], "w"), indent=1)


main()
