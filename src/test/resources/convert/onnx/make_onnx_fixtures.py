#!/usr/bin/python3
"""Writes the ONNX sources that `lstmcast convert` is tested on, with expected outputs.

Run with Debian's python3 (python3-onnx 1.12, numpy):  /usr/bin/python3 make_onnx_fixtures.py

Each model is written beside this script as <name>.onnx, with <name>.expected.json holding three input
windows (one batch of 3) and the outputs of a forward pass written here in NumPy, float64, from the
model's float32 weights. That pass follows the ONNX operator specification and shares no code with
the Java side, so the Java converter and its reference evaluator are checked against an outside opinion.
Seeded: running it again writes the same files.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
IR_VERSION = 8
rng = np.random.default_rng(20261202)


def f32(*shape, scale=0.5):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


# ---------------------------------------------------------------- NumPy forward pass, float64

def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# Which activations read an alpha / a beta, and their defaults when the node gives none.
ACTIVATIONS = {
    "relu": (False, False), "tanh": (False, False), "sigmoid": (False, False),
    "affine": (True, True), "leakyrelu": (True, False), "thresholdedrelu": (True, False),
    "scaledtanh": (True, True), "hardsigmoid": (True, True), "elu": (True, False),
    "softsign": (False, False), "softplus": (False, False),
}
DEFAULTS = {"leakyrelu": (0.01, 0.0), "hardsigmoid": (0.2, 0.5), "elu": (1.0, 0.0), "thresholdedrelu": (1.0, 0.0),
            "affine": (1.0, 0.0), "scaledtanh": (1.0, 1.0)}


def activation(name, alpha, beta):
    n = name.lower()
    if n == "relu":
        return lambda x: np.maximum(x, 0.0)
    if n == "tanh":
        return np.tanh
    if n == "sigmoid":
        return sigmoid
    if n == "affine":
        return lambda x: alpha * x + beta
    if n == "leakyrelu":
        return lambda x: np.where(x >= 0, x, alpha * x)
    if n == "thresholdedrelu":
        return lambda x: np.where(x > alpha, x, 0.0)
    if n == "scaledtanh":
        return lambda x: alpha * np.tanh(beta * x)
    if n == "hardsigmoid":
        return lambda x: np.clip(alpha * x + beta, 0.0, 1.0)
    if n == "elu":
        return lambda x: np.where(x >= 0, x, alpha * (np.exp(x) - 1.0))
    if n == "softsign":
        return lambda x: x / (1.0 + np.abs(x))
    if n == "softplus":
        return lambda x: np.log1p(np.exp(x))
    raise ValueError(name)


def activations(names, alphas, betas):
    """alphas and betas are consumed in order, only by the activations that read them. The model stores them
    (and the defaults are defined) as float32, so they are rounded to float32 here too."""
    alphas, betas = [float(np.float32(a)) for a in alphas], [float(np.float32(b)) for b in betas]
    out = []
    for name in names:
        uses_a, uses_b = ACTIVATIONS[name.lower()]
        da, db = DEFAULTS.get(name.lower(), (0.0, 0.0))
        a = alphas.pop(0) if uses_a and alphas else float(np.float32(da))
        b = betas.pop(0) if uses_b and betas else float(np.float32(db))
        out.append(activation(name, a, b))
    return out


def recurrent(kind, X, W, R, B=None, h0=None, c0=None, P=None, hidden=None, direction="forward", layout=0,
              acts=None, alphas=(), betas=(), clip=None, input_forget=0, linear_before_reset=0):
    """ONNX LSTM / GRU / RNN; returns Y, Y_h (and Y_c for LSTM) in the node's layout."""
    X, W, R = (np.asarray(a, np.float64) for a in (X, W, R))
    if layout == 1:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else np.asarray(h0).transpose(1, 0, 2)
        c0 = None if c0 is None else np.asarray(c0).transpose(1, 0, 2)
    seq, batch, _ = X.shape
    dirs = 2 if direction == "bidirectional" else 1
    gates = {"LSTM": 4, "GRU": 3, "RNN": 1}[kind]
    per_dir = {"LSTM": 3, "GRU": 2, "RNN": 1}[kind]
    default = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}[kind]
    funcs = activations(acts or default * dirs, alphas, betas)
    if B is None:
        B = np.zeros((dirs, 2 * gates * hidden))
    H = hidden
    Y = np.zeros((seq, dirs, batch, H))
    Yh = np.zeros((dirs, batch, H))
    Yc = np.zeros((dirs, batch, H))

    clip = None if clip is None else float(np.float32(clip))

    def cl(v):
        return v if clip is None else np.clip(v, -clip, clip)

    for d in range(dirs):
        f = funcs[d * per_dir:(d + 1) * per_dir]
        w, r = W[d], R[d]
        wb, rb = np.asarray(B[d][:gates * H], np.float64), np.asarray(B[d][gates * H:], np.float64)
        h = np.zeros((batch, H)) if h0 is None else np.asarray(h0[d], np.float64)
        c = np.zeros((batch, H)) if c0 is None else np.asarray(c0[d], np.float64)
        reverse = direction == "reverse" or d == 1
        steps = range(seq - 1, -1, -1) if reverse else range(seq)
        for t in steps:
            x = X[t]
            if kind == "LSTM":
                p = np.zeros(3 * H) if P is None else np.asarray(P[d], np.float64)
                z = x @ w.T + h @ r.T + wb + rb
                zi, zo, zf, zc = (z[:, k * H:(k + 1) * H] for k in range(4))
                i = f[0](cl(zi + p[0:H] * c))
                fg = 1.0 - i if input_forget else f[0](cl(zf + p[2 * H:3 * H] * c))
                g = f[1](cl(zc))
                c = fg * c + i * g
                o = f[0](cl(zo + p[H:2 * H] * c))
                h = o * f[2](c)
            elif kind == "GRU":
                xz = x @ w.T + wb
                zg = f[0](cl(xz[:, 0:H] + h @ r[0:H].T + rb[0:H]))
                rg = f[0](cl(xz[:, H:2 * H] + h @ r[H:2 * H].T + rb[H:2 * H]))
                if linear_before_reset:
                    hh = f[1](cl(xz[:, 2 * H:] + rg * (h @ r[2 * H:].T + rb[2 * H:])))
                else:
                    hh = f[1](cl(xz[:, 2 * H:] + (rg * h) @ r[2 * H:].T + rb[2 * H:]))
                h = (1.0 - zg) * hh + zg * h
            else:
                h = f[0](cl(x @ w.T + h @ r.T + wb + rb))
            Y[t, d] = h
        Yh[d], Yc[d] = h, c
    if layout == 1:
        Y, Yh, Yc = Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    return (Y, Yh, Yc) if kind == "LSTM" else (Y, Yh)


def softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------- writing

def init(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def ints(name, values):
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def save(name, graph, opset, inputs, outputs):
    model = helper.make_model(graph, producer_name="lstmcast-fixtures", ir_version=IR_VERSION,
                              opset_imports=[helper.make_opsetid("", opset)])
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, os.path.join(HERE, name + ".onnx"))

    def enc(a):
        a = np.asarray(a, np.float64)
        return {"shape": list(a.shape), "data": [float(v) for v in a.ravel()]}

    doc = {"model": name + ".onnx", "opset": opset,
           "inputs": {k: enc(v) for k, v in inputs.items()},
           "outputs": {k: enc(v) for k, v in outputs.items()}}
    with open(os.path.join(HERE, name + ".expected.json"), "w") as out:
        json.dump(doc, out, indent=1)
        out.write("\n")


def lstm_layout1():
    H, I = 4, 2
    W, R, B = f32(1, 4 * H, I), f32(1, 4 * H, H), f32(1, 8 * H, scale=0.2)
    head_w, head_b = f32(H, 1), f32(1)
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B"], ["", "h_n"], name="lstm_1", hidden_size=H, layout=1),
        helper.make_node("Squeeze", ["h_n", "axis1"], ["h_last"], name="squeeze"),
        helper.make_node("Gemm", ["h_last", "head_w", "head_b"], ["y"], name="head"),
    ]
    graph = helper.make_graph(
        nodes, "lstm_layout1",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", I])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [init("W", W), init("R", R), init("B", B), ints("axis1", [1]), init("head_w", head_w), init("head_b", head_b)])
    x = f32(3, 5, I, scale=1.0)
    _, yh, _ = recurrent("LSTM", x, W, R, B, hidden=H, layout=1)
    y = yh[:, 0, :] @ head_w.astype(np.float64) + head_b
    save("lstm_layout1", graph, 17, {"x": x}, {"y": y})


def gru_layout1_bidir():
    H, I = 3, 2
    W, R, B = f32(2, 3 * H, I), f32(2, 3 * H, H), f32(2, 6 * H, scale=0.2)
    head_w, head_c = f32(2, 4 * H), f32(2)
    acts = ["Sigmoid", "Tanh", "HardSigmoid", "Softsign"]
    alphas, betas = [0.25], [0.45]
    nodes = [
        helper.make_node("GRU", ["x", "W", "R", "B"], ["y_seq", "h_n"], name="gru_bi", hidden_size=H, layout=1,
                         direction="bidirectional", linear_before_reset=1, activations=acts,
                         activation_alpha=alphas, activation_beta=betas, clip=4.0),
        helper.make_node("Reshape", ["y_seq", "shape_00m1"], ["y_flat"], name="merge_dirs"),
        helper.make_node("Gather", ["y_flat", "last"], ["y_last"], name="last_step", axis=1),
        helper.make_node("Flatten", ["h_n"], ["h_flat"], name="flatten", axis=1),
        helper.make_node("Concat", ["y_last", "h_flat"], ["both"], name="concat", axis=1),
        helper.make_node("Gemm", ["both", "head_w", "head_c"], ["logits"], name="head", transB=1, alpha=0.5, beta=2.0),
        helper.make_node("Sigmoid", ["logits"], ["y"], name="squash"),
    ]
    graph = helper.make_graph(
        nodes, "gru_layout1_bidir",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", I])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 2])],
        [init("W", W), init("R", R), init("B", B), ints("shape_00m1", [0, 0, -1]),
         numpy_helper.from_array(np.array(-1, np.int64), "last"), init("head_w", head_w), init("head_c", head_c)])
    x = f32(3, 5, I, scale=1.0)
    yseq, yh = recurrent("GRU", x, W, R, B, hidden=H, layout=1, direction="bidirectional", acts=acts,
                         alphas=alphas, betas=betas, clip=4.0, linear_before_reset=1)
    both = np.concatenate([yseq.reshape(3, 5, -1)[:, -1, :], yh.reshape(3, -1)], axis=1)
    y = sigmoid(0.5 * both @ head_w.astype(np.float64).T + 2.0 * head_c.astype(np.float64))
    save("gru_layout1_bidir", graph, 17, {"x": x}, {"y": y})


def rnn_layout1():
    H, I = 3, 2
    W, R, B = f32(1, H, I), f32(1, H, H), f32(1, 2 * H, scale=0.2)
    w0, head_w, head_b = f32(I, H), f32(2 * H, 1), f32(1)
    nodes = [
        # initial_h comes from the first step of the window: [batch, 1, H], batch-major as layout=1 wants.
        helper.make_node("Slice", ["x", "zero", "one", "one"], ["x0"], name="first_step"),
        helper.make_node("Squeeze", ["x0", "one"], ["x0s"], name="squeeze_first"),
        helper.make_node("MatMul", ["x0s", "w0"], ["h0_lin"], name="h0_matmul"),
        helper.make_node("Tanh", ["h0_lin"], ["h0_act"], name="h0_tanh"),
        helper.make_node("Unsqueeze", ["h0_act", "one"], ["h0"], name="h0_unsqueeze"),
        helper.make_node("RNN", ["x", "W", "R", "B", "", "h0"], ["y_seq", ""], name="rnn_rev", hidden_size=H,
                         layout=1, direction="reverse", activations=["LeakyRelu"], activation_alpha=[0.1]),
        helper.make_node("Squeeze", ["y_seq", "two"], ["y_s"], name="drop_dirs"),
        helper.make_node("Slice", ["y_s", "minus2", "max", "one"], ["tail"], name="last_two"),
        helper.make_node("Reshape", ["tail", "shape_0m1"], ["tail_flat"], name="flatten_tail"),
        helper.make_node("MatMul", ["tail_flat", "head_w"], ["lin"], name="head_matmul"),
        helper.make_node("Add", ["lin", "head_b"], ["lin_b"], name="head_bias"),
        helper.make_node("Constant", [], ["three"], name="const3", value=helper.make_tensor("c3", TensorProto.FLOAT, [], [3.0])),
        helper.make_node("Div", ["lin_b", "three"], ["scaled"], name="div3"),
        helper.make_node("Sub", ["scaled", "head_b"], ["y"], name="sub_bias"),
    ]
    graph = helper.make_graph(
        nodes, "rnn_layout1",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", I])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 1])],
        [init("W", W), init("R", R), init("B", B), init("w0", w0), init("head_w", head_w), init("head_b", head_b),
         ints("zero", [0]), ints("one", [1]), ints("two", [2]), ints("minus2", [-2]),
         ints("max", [np.iinfo(np.int64).max]), ints("shape_0m1", [0, -1])])
    x = f32(3, 5, I, scale=1.0)
    h0 = np.tanh(x[:, 0, :].astype(np.float64) @ w0.astype(np.float64))[:, None, :]
    yseq, _ = recurrent("RNN", x, W, R, B, h0=h0, hidden=H, layout=1, direction="reverse",
                        acts=["LeakyRelu"], alphas=[0.1])
    tail = yseq[:, :, 0, :][:, -2:, :].reshape(3, -1)
    y = (tail @ head_w.astype(np.float64) + head_b) / 3.0 - head_b
    save("rnn_layout1", graph, 17, {"x": x}, {"y": y})


def lstm_time_major():
    H, I = 4, 3
    W, R, B, P = f32(1, 4 * H, I), f32(1, 4 * H, H), f32(1, 8 * H, scale=0.2), f32(1, 3 * H, scale=0.3)
    head_w, head_b = f32(H, 1), f32(1)
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B", "", "", "", "P"], ["", "h_n"], name="lstm_tm", hidden_size=H,
                         clip=2.5),
        helper.make_node("Squeeze", ["h_n", "axis0"], ["h_last"], name="squeeze"),
        helper.make_node("Gemm", ["h_last", "head_w", "head_b"], ["forecast"], name="head"),
    ]
    graph = helper.make_graph(
        nodes, "lstm_time_major",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["seq", "batch", I])],
        [helper.make_tensor_value_info("forecast", TensorProto.FLOAT, ["batch", 1])],
        [init("W", W), init("R", R), init("B", B), init("P", P), ints("axis0", [0]),
         init("head_w", head_w), init("head_b", head_b)])
    x = f32(5, 3, I, scale=1.0)
    _, yh, _ = recurrent("LSTM", x, W, R, B, P=P, hidden=H, clip=2.5)
    y = yh[0] @ head_w.astype(np.float64) + head_b
    save("lstm_time_major", graph, 14, {"x": x}, {"forecast": y})


def two_outputs():
    H, I = 3, 2
    W, R, B = f32(2, 4 * H, I), f32(2, 4 * H, H), f32(2, 8 * H, scale=0.2)
    w_head, b_head, g_w, g_b = f32(2 * H, 1), f32(1), f32(2 * H, 2), f32(2)
    acts = ["Sigmoid", "Tanh", "Tanh", "HardSigmoid", "Elu", "ScaledTanh"]
    alphas, betas = [0.2, 1.1, 1.2], [0.5, 0.9]
    nodes = [
        helper.make_node("LSTM", ["x", "W", "R", "B"], ["", "h_n", "c_n"], name="lstm_bi", hidden_size=H, layout=1,
                         direction="bidirectional", input_forget=1, activations=acts,
                         activation_alpha=alphas, activation_beta=betas),
        helper.make_node("Reshape", ["h_n", "shape_0m1"], ["h_flat"], name="h_flat"),
        helper.make_node("MatMul", ["h_flat", "w_head"], ["f_lin"], name="forecast_matmul"),
        helper.make_node("Add", ["f_lin", "b_head"], ["forecast"], name="forecast_bias"),
        helper.make_node("Flatten", ["c_n"], ["c_flat"], name="c_flat"),
        helper.make_node("Gemm", ["c_flat", "g_w", "g_b"], ["g"], name="gate"),
        helper.make_node("Softmax", ["g"], ["g_soft"], name="softmax", axis=1),
        helper.make_node("Mul", ["g_soft", "aux"], ["combined"], name="times_aux"),
    ]
    graph = helper.make_graph(
        nodes, "two_outputs",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "seq", I]),
         helper.make_tensor_value_info("aux", TensorProto.FLOAT, ["batch", 1]),
         # An initializer listed as a graph input too (overridable, as older exporters wrote): not a real input.
         helper.make_tensor_value_info("w_head", TensorProto.FLOAT, [2 * H, 1])],
        [helper.make_tensor_value_info("forecast", TensorProto.FLOAT, ["batch", 1]),
         helper.make_tensor_value_info("combined", TensorProto.FLOAT, ["batch", 2])],
        [init("W", W), init("R", R), init("B", B), ints("shape_0m1", [0, -1]), init("w_head", w_head),
         init("b_head", b_head), init("g_w", g_w), init("g_b", g_b)])
    x, aux = f32(3, 5, I, scale=1.0), f32(3, 1, scale=1.0)
    _, yh, yc = recurrent("LSTM", x, W, R, B, hidden=H, layout=1, direction="bidirectional", input_forget=1,
                          acts=acts, alphas=alphas, betas=betas)
    forecast = yh.reshape(3, -1) @ w_head.astype(np.float64) + b_head
    combined = softmax(yc.reshape(3, -1) @ g_w.astype(np.float64) + g_b, axis=1) * aux
    save("two_outputs", graph, 17, {"x": x, "aux": aux}, {"forecast": forecast, "combined": combined})


def lstm_layout1_named():
    """A batch-first LSTM as a Triton or KServe client knows it: input `X` [N, 6, 2], output `Y` [N, 3, 1], names,
    dims and a trailing axis that a converted drop-in must present unchanged. An inner value is called `output`, a
    name the converter's wrapper uses itself."""
    H, I, T, K = 4, 2, 6, 3
    W, R, B = f32(1, 4 * H, I), f32(1, 4 * H, H), f32(1, 8 * H, scale=0.2)
    head_w, head_b = f32(H, K), f32(K)
    nodes = [
        helper.make_node("LSTM", ["X", "W", "R", "B"], ["", "h_n"], name="lstm", hidden_size=H, layout=1),
        helper.make_node("Squeeze", ["h_n", "axis1"], ["h_last"], name="squeeze"),
        helper.make_node("Gemm", ["h_last", "head_w", "head_b"], ["output"], name="head"),
        helper.make_node("Unsqueeze", ["output", "axis2"], ["Y"], name="unsqueeze"),
    ]
    graph = helper.make_graph(
        nodes, "lstm_layout1_named",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", T, I])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", K, 1])],
        [init("W", W), init("R", R), init("B", B), ints("axis1", [1]), ints("axis2", [2]),
         init("head_w", head_w), init("head_b", head_b)])
    x = f32(3, T, I, scale=1.0)
    _, yh, _ = recurrent("LSTM", x, W, R, B, hidden=H, layout=1)
    y = (yh[:, 0, :] @ head_w.astype(np.float64) + head_b)[:, :, None]
    save("lstm_layout1_named", graph, 17, {"X": x}, {"Y": y})


if __name__ == "__main__":
    lstm_layout1()
    gru_layout1_bidir()
    rnn_layout1()
    lstm_time_major()
    two_outputs()
    lstm_layout1_named()
