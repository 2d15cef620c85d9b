#!/usr/bin/python3
"""Write the Keras .h5 test fixtures for `lstmcast convert`, with reference outputs.

Usage (from this folder):  /usr/bin/python3 make_keras_fixtures.py [OUTPUT_DIR]
OUTPUT_DIR defaults to ./keras.  Needs numpy and h5py (Debian: python3-numpy, python3-h5py);
the trained fixture `stock_lstm_w60` also needs torch (Debian: python3-torch) and
../../../../data/eustockmarkets_daily.csv.  Pass --skip-trained to leave that one out.

Keras itself is not available here, so the .h5 files are written directly with h5py,
following Keras's legacy HDF5 saving layout (`model.save("x.h5")`) as seen in files saved by
Keras 2.0.x, 2.2.x, tf.keras 2.2.4-tf / 2.4.0 and Keras 3.10:

* root attributes `keras_version`, `backend` ("tensorflow"), `model_config` (JSON) and
  `training_config` (JSON), all variable-length strings;
* group `model_weights` with attributes `layer_names`, `backend`, `keras_version`;
* one group per layer, `model_weights/<layer>`, with attribute `weight_names`, and one dataset per
  weight at `model_weights/<layer>/<weight_name>` (the weight name contains slashes, so it makes
  sub-groups); layers without weights hold an empty float64 `weight_names` array, as h5py writes
  Keras's empty list;
* Keras 2: `layer_names` / `weight_names` are fixed-length byte strings (dtype |Sn), weight names
  end in ":0" ("lstm_1/kernel:0"; tf.keras 2.4: "lstm/lstm_cell/kernel:0");
* Keras 3: `layer_names` / `weight_names` are variable-length strings, weight names are variable
  paths without ":0" ("sequential/lstm/lstm_cell/kernel"), plus a `top_level_model_weights` group
  with an empty `weight_names`.

Weight shapes follow Keras: LSTM kernel [in, 4U] (gates i, f, c, o), recurrent_kernel [U, 4U],
bias [4U]; GRU kernel [in, 3U] (gates z, r, h), recurrent_kernel [U, 3U], bias [3U]
(reset_after=False) or [2, 3U] (reset_after=True: row 0 input bias, row 1 recurrent bias);
SimpleRNN kernel [in, U], recurrent_kernel [U, U], bias [U]; Dense kernel [in, out], bias [out].

Each `<name>.expected.json` holds three input windows `numpy.random.default_rng(1).random([3, T, F])`
as float32 and the outputs of an independent NumPy forward pass in float64 over the float32
weights.  The forward pass (`forward()` below) reads the model back from the written .h5 file
(config JSON + weights), and so does not share code with the writer; it follows Keras semantics,
including Keras 2's hard_sigmoid clip(0.2x+0.5, 0, 1) versus Keras 3's relu6(x+3)/6.

Everything is seeded, so re-running the script rewrites the same files (the trained fixture is
reproducible for a given torch build).
"""

import json
import os
import sys
import zlib

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_CSV = os.path.normpath(os.path.join(HERE, "..", "..", "..", "..", "data", "eustockmarkets_daily.csv"))

# --------------------------------------------------------------------------------------------------
# NumPy reference forward pass (reads a Keras legacy .h5 file; independent of the writer below)
# --------------------------------------------------------------------------------------------------


class Refused(Exception):
    """A layer the reference forward pass (and the converter) does not support."""


def _as_str(v):
    if isinstance(v, bytes):
        return v.decode("utf8")
    if isinstance(v, np.bytes_):
        return bytes(v).decode("utf8")
    return str(v)


def load_keras_h5(path, config_path=None):
    """Return (model_config dict, keras_version, {layer_name: [(weight_name, float32 array)]})."""
    with h5py.File(path, "r") as f:
        if config_path is not None:
            with open(config_path) as cf:
                config = json.load(cf)
        else:
            config = json.loads(_as_str(f.attrs["model_config"]))
        version = _as_str(f.attrs["keras_version"])
        root = f["model_weights"] if "model_weights" in f else f
        weights = {}
        for lname in root.attrs["layer_names"]:
            lname = _as_str(lname)
            g = root[lname]
            names = [_as_str(n) for n in g.attrs["weight_names"]]
            weights[lname] = [(n, np.array(g[n], dtype=np.float32)) for n in names]
    return config, version, weights


def _hard_sigmoid(x, keras3):
    if keras3:
        return np.clip(x / 6.0 + 0.5, 0.0, 1.0)
    return np.clip(0.2 * x + 0.5, 0.0, 1.0)


def _softmax(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def activation_fn(name, keras3):
    if isinstance(name, dict):  # Keras 3 may serialise an activation as an object
        name = name.get("config", name.get("class_name"))
    name = name or "linear"
    table = {
        "linear": lambda x: x,
        "tanh": np.tanh,
        "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
        "hard_sigmoid": lambda x: _hard_sigmoid(x, keras3),
        "relu": lambda x: np.maximum(x, 0.0),
        "softmax": _softmax,
        "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
        "softplus": lambda x: np.log1p(np.exp(x)),
        "softsign": lambda x: x / (1.0 + np.abs(x)),
        "exponential": np.exp,
    }
    if name not in table:
        raise Refused("activation " + name)
    return table[name]


def _roles(weights):
    """Map the last path component of each weight name ("kernel:0" -> "kernel") to its array."""
    out = {}
    for n, a in weights:
        out[n.split("/")[-1].split(":")[0]] = a.astype(np.float64)
    return out


def _rnn(kind, cfg, weights, x, mask, keras3, go_backwards=None):
    """Run LSTM / GRU / SimpleRNN over x [B, T, F]; mask [B, T] bool or None."""
    w = _roles(weights)
    K, R = w["kernel"], w["recurrent_kernel"]
    b = w.get("bias")
    act = activation_fn(cfg.get("activation", "tanh"), keras3)
    ract = activation_fn(cfg.get("recurrent_activation", "sigmoid" if keras3 else "hard_sigmoid"), keras3)
    units = R.shape[0]
    if go_backwards is None:
        go_backwards = cfg.get("go_backwards", False)
    x = x.astype(np.float64)
    B, T, _ = x.shape
    if mask is None:
        mask = np.ones((B, T), dtype=bool)
    if go_backwards:
        x, mask = x[:, ::-1], mask[:, ::-1]
    h = np.zeros((B, units))
    c = np.zeros((B, units))
    out_prev = np.zeros((B, units))
    outs = []
    for t in range(T):
        xt = x[:, t]
        if kind == "LSTM":
            z = xt @ K + h @ R + (b if b is not None else 0.0)
            i = ract(z[:, :units])
            fg = ract(z[:, units:2 * units])
            cc = act(z[:, 2 * units:3 * units])
            o = ract(z[:, 3 * units:])
            c_new = fg * c + i * cc
            h_new = o * act(c_new)
        elif kind == "GRU":
            reset_after = cfg.get("reset_after", False)
            if b is None:
                bx = bh = np.zeros(3 * units)
            elif b.ndim == 2:
                bx, bh = b[0], b[1]
            else:
                bx, bh = b, np.zeros(3 * units)
            mx = xt @ K + bx
            if reset_after:
                mh = h @ R + bh
                zg = ract(mx[:, :units] + mh[:, :units])
                rg = ract(mx[:, units:2 * units] + mh[:, units:2 * units])
                hh = act(mx[:, 2 * units:] + rg * mh[:, 2 * units:])
            else:
                zg = ract(mx[:, :units] + h @ R[:, :units])
                rg = ract(mx[:, units:2 * units] + h @ R[:, units:2 * units])
                hh = act(mx[:, 2 * units:] + (rg * h) @ R[:, 2 * units:])
            h_new = zg * h + (1.0 - zg) * hh
            c_new = c
        elif kind == "SimpleRNN":
            h_new = act(xt @ K + h @ R + (b if b is not None else 0.0))
            c_new = c
        else:
            raise Refused(kind)
        m = mask[:, t][:, None]
        h = np.where(m, h_new, h)
        c = np.where(m, c_new, c)
        out_prev = np.where(m, h_new, out_prev)
        outs.append(out_prev)
    if cfg.get("return_sequences", False):
        return np.stack(outs, axis=1)
    return out_prev


def _apply(cls, cfg, weights, x, mask, keras3):
    """Apply one layer; returns (output, mask)."""
    if cls == "InputLayer":
        return x, mask
    if cls in ("LSTM", "GRU", "SimpleRNN"):
        y = _rnn(cls, cfg, weights, x, mask, keras3)
        return y, (mask if cfg.get("return_sequences", False) else None)
    if cls == "Dense":
        w = _roles(weights)
        y = x.astype(np.float64) @ w["kernel"]
        if "bias" in w:
            y = y + w["bias"]
        return activation_fn(cfg.get("activation", "linear"), keras3)(y), mask
    if cls == "Dropout" or cls == "SpatialDropout1D":
        return x, mask
    if cls == "Activation":
        return activation_fn(cfg["activation"], keras3)(x), mask
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1), None
    if cls == "RepeatVector":
        return np.repeat(x[:, None, :], cfg["n"], axis=1), None
    if cls == "Reshape":
        return x.reshape((x.shape[0],) + tuple(cfg["target_shape"])), None
    if cls == "Masking":
        m = np.any(x != cfg.get("mask_value", 0.0), axis=-1)
        return x * m[..., None], m
    if cls == "TimeDistributed":
        inner = cfg["layer"]
        if inner["class_name"] != "Dense":
            raise Refused("TimeDistributed(" + inner["class_name"] + ")")
        y, _ = _apply("Dense", inner["config"], weights, x, None, keras3)
        return y, mask
    if cls == "Bidirectional":
        inner = cfg["layer"]
        kind = inner["class_name"]
        fcfg = inner["config"]
        bcfg = cfg["backward_layer"]["config"] if cfg.get("backward_layer") else fcfg
        fw = [(n, a) for n, a in weights if any(p.startswith("forward_") for p in n.split("/"))]
        bw = [(n, a) for n, a in weights if any(p.startswith("backward_") for p in n.split("/"))]
        if not fw or not bw:
            half = len(weights) // 2
            fw, bw = weights[:half], weights[half:]
        f_go = fcfg.get("go_backwards", False)
        b_go = bcfg.get("go_backwards", True) if cfg.get("backward_layer") else not f_go
        yf = _rnn(kind, fcfg, fw, x, mask, keras3, go_backwards=f_go)
        yb = _rnn(kind, bcfg, bw, x, mask, keras3, go_backwards=b_go)
        seq = fcfg.get("return_sequences", False)
        if seq:
            yb = yb[:, ::-1]
        mode = cfg.get("merge_mode", "concat")
        if mode == "concat":
            y = np.concatenate([yf, yb], axis=-1)
        elif mode == "sum":
            y = yf + yb
        elif mode == "mul":
            y = yf * yb
        elif mode == "ave":
            y = (yf + yb) / 2.0
        else:
            raise Refused("Bidirectional merge_mode " + str(mode))
        return y, (mask if seq else None)
    raise Refused(cls)


def _layer_list(config):
    """Return [(name, class_name, config, [input layer names] or None for 'previous')], outputs."""
    cls = config["class_name"]
    body = config["config"]
    if cls == "Sequential":
        layers = body if isinstance(body, list) else body["layers"]
        out = [(l["config"]["name"], l["class_name"], l["config"], None) for l in layers]
        return out, [out[-1][0]]
    if cls in ("Model", "Functional"):
        out = []
        for l in body["layers"]:
            srcs = []
            for node in l.get("inbound_nodes", [])[:1]:
                if isinstance(node, dict):  # Keras 3
                    def walk(v):
                        if isinstance(v, dict):
                            if v.get("class_name") == "__keras_tensor__":
                                srcs.append(v["config"]["keras_history"][0])
                            else:
                                for vv in v.values():
                                    walk(vv)
                        elif isinstance(v, list):
                            for vv in v:
                                walk(vv)
                    walk(node["args"])
                else:  # Keras 2: [[name, node, tensor, kwargs], ...]
                    srcs.extend(s[0] for s in node)
            out.append((l["name"], l["class_name"], l["config"], srcs))
        outs = body["output_layers"]
        if outs and isinstance(outs[0], str):
            outs = [outs]
        return out, [o[0] for o in outs]
    raise Refused(cls)


def forward(path, x, config_path=None, keras3=None):
    """NumPy forward pass of the Keras .h5 model at `path` on x [B, T, F]; float64 result.

    `keras3` overrides which hard_sigmoid is used (default: from the file's keras_version)."""
    config, version, weights = load_keras_h5(path, config_path)
    if keras3 is None:
        keras3 = version.split(".")[0] == "3"
    layers, outputs = _layer_list(config)
    values = {}
    prev = None
    cur = (np.asarray(x, dtype=np.float64), None)
    for name, cls, cfg, srcs in layers:
        if cls == "InputLayer":
            values[name] = (np.asarray(x, dtype=np.float64), None)
            prev = name
            cur = values[name]
            continue
        if srcs is None:
            inp = cur
        else:
            if len(srcs) != 1:
                raise Refused("multi-input " + cls)
            inp = values[srcs[0]]
        cur = _apply(cls, cfg, weights.get(name, []), inp[0], inp[1], keras3)
        values[name] = cur
        prev = name
    if len(outputs) != 1:
        raise Refused("multi-output model")
    return values[outputs[0]][0] if outputs[0] in values else cur[0]


def layer_classes(path):
    config, _, _ = load_keras_h5(path)
    return [cls for _, cls, _, _ in _layer_list(config)[0] if cls != "InputLayer"]


# --------------------------------------------------------------------------------------------------
# Writer: builds Keras-style model_config JSON + weights and writes the legacy HDF5 layout
# --------------------------------------------------------------------------------------------------

# flavour -> (keras_version, family)
#   k2old: Keras 2.0.x, Sequential config is a plain list of layers
#   k2:    standalone Keras 2.2.4, Sequential config {"name", "layers"}, names lstm_1, dense_1
#   tf1:   tf.keras 2.2.4-tf (TF 1.x), functional "Model" configs, names lstm, dense ...
#   tf2:   tf.keras 2.4.0 (TF 2.3+), Sequential config starts with an InputLayer,
#          weights "lstm/lstm_cell/kernel:0"
#   k3:    Keras 3.10.0
VERSIONS = {"k2old": "2.0.8", "k2": "2.2.4", "tf1": "2.2.4-tf", "tf2": "2.4.0", "k3": "3.10.0"}
CELL = {"LSTM": "lstm_cell", "GRU": "gru_cell", "SimpleRNN": "simple_rnn_cell"}
GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}
SNAKE = {"LSTM": "lstm", "GRU": "gru", "SimpleRNN": "simple_rnn", "Dense": "dense", "Dropout": "dropout",
         "Activation": "activation", "Flatten": "flatten", "RepeatVector": "repeat_vector",
         "Reshape": "reshape", "Masking": "masking", "Bidirectional": "bidirectional",
         "TimeDistributed": "time_distributed", "Conv1D": "conv1d"}
DTYPE_POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                "registered_name": None}


class Builder:
    def __init__(self, name, flavour, time_steps, features, functional=False, seed=None):
        self.name = name
        self.flavour = flavour
        self.version = VERSIONS[flavour]
        self.functional = functional
        self.input_shape = [None, time_steps, features]
        self.shape = list(self.input_shape)
        self.layers = []  # dicts: name, class_name, config, weights [(weight_name, array)], in_shape
        self.counters = {}
        self.rng = np.random.default_rng(zlib.crc32(name.encode()) if seed is None else seed)
        self.input_name = None
        if functional:
            self.input_name = "input_1" if flavour in ("k2", "k2old") else "input_layer" if flavour == "k3" else "input_1"
        self.model_name = {"k2old": "sequential_1", "k2": "sequential_1", "tf1": "sequential",
                           "tf2": "sequential", "k3": "sequential"}[flavour]
        if functional:
            self.model_name = "functional" if flavour == "k3" else "model_1" if flavour in ("k2", "k2old") else "model"

    # ---- naming -----------------------------------------------------------------------------------
    def uname(self, cls):
        base = SNAKE[cls]
        n = self.counters.get(base, 0)
        self.counters[base] = n + 1
        if self.flavour in ("k2old", "k2"):
            return "%s_%d" % (base, n + 1)
        return base if n == 0 else "%s_%d" % (base, n)

    def wname(self, layer, role, cell=None, sub=None):
        """Weight name for `role` of `layer`; `cell` for recurrent layers, `sub` inside Bidirectional."""
        parts = []
        if self.flavour == "k3" and not self.functional:
            parts.append(self.model_name)
        parts.append(layer)
        if sub:
            parts.append(sub)
        if cell and self.flavour in ("tf2", "k3"):
            parts.append(cell)
        parts.append(role)
        n = "/".join(parts)
        return n if self.flavour == "k3" else n + ":0"

    # ---- config pieces ----------------------------------------------------------------------------
    def init(self, cls_name, **cfg):
        fl = self.flavour
        if fl == "k3":
            return {"module": "keras.initializers", "class_name": cls_name, "config": cfg, "registered_name": None}
        if fl in ("k2old", "k2") and cls_name == "GlorotUniform":
            return {"class_name": "VarianceScaling",
                    "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": None}}
        if fl in ("tf1",):
            cfg = dict(cfg, dtype="float32")
        return {"class_name": cls_name, "config": cfg}

    def base_cfg(self, name):
        cfg = {"name": name, "trainable": True}
        if self.flavour == "k3":
            cfg["dtype"] = dict(DTYPE_POLICY)
        elif self.flavour in ("tf1", "tf2"):
            cfg["dtype"] = "float32"
        if not self.layers and not self.functional and self.flavour != "k3":
            cfg["batch_input_shape"] = list(self.input_shape)
            cfg["dtype"] = "float32"
        return cfg

    def w(self, *shape, scale=None):
        fan = shape[0] + (shape[-1] if len(shape) > 1 else 0)
        a = scale if scale is not None else np.sqrt(6.0 / max(fan, 1)) * 1.2
        return self.rng.uniform(-a, a, size=shape).astype(np.float32)

    def add(self, cls, cfg, weights, out_shape):
        self.layers.append({"name": cfg["name"], "class_name": cls, "config": cfg, "weights": weights,
                            "in_shape": list(self.shape)})
        self.shape = out_shape

    # ---- layers -----------------------------------------------------------------------------------
    def _rnn_cfg(self, cls, name, units, return_sequences, activation, recurrent_activation, use_bias,
                 go_backwards, reset_after, base=True):
        fl = self.flavour
        cfg = self.base_cfg(name) if base else {"name": name, "trainable": True}
        if not base:
            cfg["dtype"] = dict(DTYPE_POLICY) if fl == "k3" else ("float32" if fl in ("tf1", "tf2") else None)
            if cfg["dtype"] is None:
                del cfg["dtype"]
        cfg.update({"return_sequences": return_sequences, "return_state": False, "go_backwards": go_backwards,
                    "stateful": False, "unroll": False})
        if fl in ("tf1", "tf2"):
            cfg["time_major"] = False
        if fl == "k3":
            cfg["zero_output_for_mask"] = False
        cfg.update({"units": units, "activation": activation})
        if cls != "SimpleRNN":
            cfg["recurrent_activation"] = recurrent_activation
        cfg.update({"use_bias": use_bias,
                    "kernel_initializer": self.init("GlorotUniform", seed=None),
                    "recurrent_initializer": self.init("Orthogonal", gain=1.0, seed=None),
                    "bias_initializer": self.init("Zeros")})
        if cls == "LSTM":
            cfg["unit_forget_bias"] = True
        cfg.update({"kernel_regularizer": None, "recurrent_regularizer": None, "bias_regularizer": None,
                    "activity_regularizer": None, "kernel_constraint": None, "recurrent_constraint": None,
                    "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0})
        if fl == "k3":
            if cls == "GRU":
                cfg["reset_after"] = reset_after
            cfg["seed"] = None
        else:
            cfg["implementation"] = 2 if fl == "tf2" else 1
            if cls == "GRU":
                cfg["reset_after"] = reset_after
        return cfg

    def _rnn_weights(self, cls, in_dim, units, use_bias, reset_after, namer):
        g = GATES[cls]
        ws = [(namer("kernel"), self.w(in_dim, g * units)),
              (namer("recurrent_kernel"), self.w(units, g * units))]
        if use_bias:
            shape = (2, g * units) if (cls == "GRU" and reset_after) else (g * units,)
            ws.append((namer("bias"), self.w(*shape, scale=0.4)))
        return ws

    def rnn(self, cls, units, return_sequences=False, activation="tanh", recurrent_activation=None,
            use_bias=True, go_backwards=False, reset_after=None):
        if recurrent_activation is None:
            recurrent_activation = "sigmoid" if self.flavour in ("tf2", "k3") else "hard_sigmoid"
        if reset_after is None:
            reset_after = self.flavour in ("tf2", "k3")
        name = self.uname(cls)
        cfg = self._rnn_cfg(cls, name, units, return_sequences, activation, recurrent_activation, use_bias,
                            go_backwards, reset_after)
        ws = self._rnn_weights(cls, self.shape[-1], units, use_bias, reset_after,
                               lambda r: self.wname(name, r, cell=CELL[cls]))
        out = [None, self.shape[1], units] if return_sequences else [None, units]
        self.add(cls, cfg, ws, out)
        return self

    def lstm(self, units, **kw):
        return self.rnn("LSTM", units, **kw)

    def gru(self, units, **kw):
        return self.rnn("GRU", units, **kw)

    def simple_rnn(self, units, **kw):
        return self.rnn("SimpleRNN", units, **kw)

    def _dense_cfg(self, name, units, activation, use_bias, base=True):
        cfg = self.base_cfg(name) if base else {"name": name, "trainable": True}
        if not base and self.flavour in ("tf1", "tf2"):
            cfg["dtype"] = "float32"
        if not base and self.flavour == "k3":
            cfg["dtype"] = dict(DTYPE_POLICY)
        cfg.update({"units": units, "activation": activation, "use_bias": use_bias,
                    "kernel_initializer": self.init("GlorotUniform", seed=None),
                    "bias_initializer": self.init("Zeros"),
                    "kernel_regularizer": None, "bias_regularizer": None})
        if self.flavour != "k3":
            cfg["activity_regularizer"] = None
        cfg.update({"kernel_constraint": None, "bias_constraint": None})
        return cfg

    def dense(self, units, activation="linear", use_bias=True):
        name = self.uname("Dense")
        cfg = self._dense_cfg(name, units, activation, use_bias)
        ws = [(self.wname(name, "kernel"), self.w(self.shape[-1], units))]
        if use_bias:
            ws.append((self.wname(name, "bias"), self.w(units, scale=0.3)))
        self.add("Dense", cfg, ws, self.shape[:-1] + [units])
        return self

    def time_distributed_dense(self, units, activation="linear"):
        name = self.uname("TimeDistributed")
        inner_name = self.uname("Dense")
        cfg = self.base_cfg(name)
        inner = {"class_name": "Dense", "config": self._dense_cfg(inner_name, units, activation, True, base=False)}
        if self.flavour == "k3":
            inner = {"module": "keras.layers", "class_name": "Dense", "config": inner["config"],
                     "registered_name": None, "build_config": {"input_shape": [None, self.shape[-1]]}}
        cfg["layer"] = inner
        ws = [(self.wname(name, "kernel"), self.w(self.shape[-1], units)),
              (self.wname(name, "bias"), self.w(units, scale=0.3))]
        self.add("TimeDistributed", cfg, ws, self.shape[:-1] + [units])
        return self

    def bidirectional(self, cls, units, merge_mode="concat", return_sequences=False, reset_after=None,
                      recurrent_activation=None):
        if recurrent_activation is None:
            recurrent_activation = "sigmoid" if self.flavour in ("tf2", "k3") else "hard_sigmoid"
        if reset_after is None:
            reset_after = self.flavour in ("tf2", "k3")
        name = self.uname("Bidirectional")
        inner_name = self.uname(cls)
        cfg = self.base_cfg(name)
        if self.flavour == "k3":
            def ser(n, back):
                c = self._rnn_cfg(cls, n, units, return_sequences, "tanh", recurrent_activation, True, back,
                                  reset_after, base=False)
                return {"module": "keras.layers", "class_name": cls, "config": c, "registered_name": None,
                        "build_config": {"input_shape": list(self.shape)}}
            cfg["merge_mode"] = merge_mode
            cfg["layer"] = ser("forward_" + inner_name, False)
            cfg["backward_layer"] = ser("backward_" + inner_name, True)
        else:
            c = self._rnn_cfg(cls, inner_name, units, return_sequences, "tanh", recurrent_activation, True, False,
                              reset_after, base=False)
            cfg["layer"] = {"class_name": cls, "config": c}
            cfg["merge_mode"] = merge_mode
        ws = []
        for d in ("forward_", "backward_"):
            ws += self._rnn_weights(cls, self.shape[-1], units, True, reset_after,
                                    lambda r, d=d: self.wname(name, r, cell=CELL[cls], sub=d + inner_name))
        out_units = 2 * units if merge_mode == "concat" else units
        out = [None, self.shape[1], out_units] if return_sequences else [None, out_units]
        self.add("Bidirectional", cfg, ws, out)
        return self

    def simple(self, cls, extra, out_shape):
        name = self.uname(cls)
        cfg = self.base_cfg(name)
        cfg.update(extra)
        self.add(cls, cfg, [], out_shape)
        return self

    def dropout(self, rate=0.2):
        extra = {"rate": rate, "noise_shape": None, "seed": None}
        return self.simple("Dropout", extra, list(self.shape))

    def activation(self, fn):
        return self.simple("Activation", {"activation": fn}, list(self.shape))

    def flatten(self):
        extra = {"data_format": "channels_last"} if self.flavour != "k2old" else {}
        n = int(np.prod(self.shape[1:]))
        return self.simple("Flatten", extra, [None, n])

    def repeat_vector(self, n):
        return self.simple("RepeatVector", {"n": n}, [None, n, self.shape[-1]])

    def reshape(self, target):
        return self.simple("Reshape", {"target_shape": list(target)}, [None] + list(target))

    def masking(self, value=0.0):
        return self.simple("Masking", {"mask_value": value}, list(self.shape))

    def conv1d(self, filters, kernel_size):
        name = self.uname("Conv1D")
        cfg = self.base_cfg(name)
        cfg.update({"filters": filters, "kernel_size": [kernel_size], "strides": [1], "padding": "valid",
                    "data_format": "channels_last", "dilation_rate": [1], "activation": "relu",
                    "use_bias": True, "kernel_initializer": self.init("GlorotUniform", seed=None),
                    "bias_initializer": self.init("Zeros"), "kernel_regularizer": None, "bias_regularizer": None,
                    "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None})
        ws = [(self.wname(name, "kernel"), self.w(kernel_size, self.shape[-1], filters)),
              (self.wname(name, "bias"), self.w(filters, scale=0.3))]
        t = None if self.shape[1] is None else self.shape[1] - kernel_size + 1
        self.add("Conv1D", cfg, ws, [None, t, filters])
        return self

    # ---- model_config -----------------------------------------------------------------------------
    def _input_layer(self, name):
        if self.flavour == "k3":
            return {"class_name": "InputLayer",
                    "config": {"batch_shape": list(self.input_shape), "dtype": "float32", "sparse": False,
                               "ragged": False, "name": name}}
        cfg = {"batch_input_shape": list(self.input_shape), "dtype": "float32", "sparse": False, "name": name}
        if self.flavour in ("tf1", "tf2"):
            cfg = {"batch_input_shape": list(self.input_shape), "dtype": "float32", "sparse": False,
                   "ragged": False, "name": name}
        return {"class_name": "InputLayer", "config": cfg}

    def model_config(self):
        fl = self.flavour
        entries = [{"class_name": l["class_name"], "config": l["config"]} for l in self.layers]
        if not self.functional:
            if fl == "k2old":
                return {"class_name": "Sequential", "config": entries}
            if fl == "k2":
                return {"class_name": "Sequential", "config": {"name": self.model_name, "layers": entries}}
            if fl in ("tf1", "tf2"):
                inp = self._input_layer(self.layers[0]["name"] + "_input")
                return {"class_name": "Sequential", "config": {"name": self.model_name, "layers": [inp] + entries}}
            inp = self._input_layer("input_layer")
            return {"class_name": "Sequential",
                    "config": {"name": self.model_name, "trainable": True, "dtype": dict(DTYPE_POLICY),
                               "layers": [inp] + entries, "build_input_shape": list(self.input_shape)}}
        # functional
        inp = self._input_layer(self.input_name)
        inp_entry = {"name": self.input_name, "class_name": "InputLayer", "config": inp["config"],
                     "inbound_nodes": []}
        if fl == "k3":
            inp_entry = {"class_name": "InputLayer", "config": inp["config"], "name": self.input_name,
                         "inbound_nodes": []}
        out = [inp_entry]
        prev = self.input_name
        for l in self.layers:
            if fl == "k3":
                node = {"args": [{"class_name": "__keras_tensor__",
                                  "config": {"shape": l["in_shape"], "dtype": "float32",
                                             "keras_history": [prev, 0, 0]}}],
                        "kwargs": {}}
                out.append({"class_name": l["class_name"], "config": l["config"], "name": l["name"],
                            "inbound_nodes": [node]})
            else:
                out.append({"name": l["name"], "class_name": l["class_name"], "config": l["config"],
                            "inbound_nodes": [[[prev, 0, 0, {}]]]})
            prev = l["name"]
        cls = "Functional" if fl == "k3" else "Model"
        cfg = {"name": self.model_name}
        if fl == "k3":
            cfg["trainable"] = True
        cfg.update({"layers": out, "input_layers": [[self.input_name, 0, 0]], "output_layers": [[prev, 0, 0]]})
        return {"class_name": cls, "config": cfg}

    def training_config(self):
        if self.flavour == "k3":
            return {"loss": "mean_squared_error", "loss_weights": None, "metrics": None, "weighted_metrics": None,
                    "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False,
                    "optimizer_config": {"class_name": "Adam", "config": {
                        "name": "adam", "learning_rate": 0.0010000000474974513, "weight_decay": None,
                        "clipnorm": None, "global_clipnorm": None, "clipvalue": None, "use_ema": False,
                        "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
                        "gradient_accumulation_steps": None, "beta_1": 0.9, "beta_2": 0.999,
                        "epsilon": 1e-07, "amsgrad": False}}}
        return {"loss": "mean_squared_error", "metrics": [], "loss_weights": None, "sample_weight_mode": None,
                "optimizer_config": {"class_name": "Adam", "config": {
                    "lr": 0.0010000000474974513, "beta_1": 0.8999999761581421, "beta_2": 0.9990000128746033,
                    "decay": 0.0, "epsilon": 1e-07, "amsgrad": False}}}

    # ---- HDF5 -------------------------------------------------------------------------------------
    def write(self, path):
        fl = self.flavour
        k3 = fl == "k3"
        model_layers = list(self.layers)
        layer_names = ([self.input_name] if self.functional else []) + [l["name"] for l in model_layers]
        weights = {l["name"]: l["weights"] for l in model_layers}
        if self.functional:
            weights[self.input_name] = []

        def names_attr(names):
            if not names:
                return np.array([])  # what h5py makes of Keras's empty list: float64, shape (0,)
            enc = [n.encode("utf8") for n in names]
            if k3:
                return np.array(enc, dtype=h5py.special_dtype(vlen=bytes))
            return np.array(enc)  # fixed-length |Sn, as Keras 2 writes

        with h5py.File(path, "w") as f:
            if fl in ("tf1", "tf2", "k3"):
                f.attrs["keras_version"] = self.version
                f.attrs["backend"] = "tensorflow"
            else:
                f.attrs["keras_version"] = self.version.encode("utf8")
                f.attrs["backend"] = b"tensorflow"
            f.attrs["model_config"] = json.dumps(self.model_config()).encode("utf8")
            f.attrs["training_config"] = json.dumps(self.training_config()).encode("utf8")
            mw = f.create_group("model_weights")
            mw.attrs["layer_names"] = names_attr(layer_names)
            mw.attrs["backend"] = b"tensorflow"
            mw.attrs["keras_version"] = self.version.encode("utf8")
            order = sorted(layer_names) if k3 else layer_names
            for lname in order:
                g = mw.create_group(lname)
                ws = weights[lname]
                g.attrs["weight_names"] = names_attr([n for n, _ in ws])
                for n, a in ws:
                    g.create_dataset(n, data=a)
            if k3:
                g = mw.create_group("top_level_model_weights")
                g.attrs["weight_names"] = names_attr([])


# --------------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------------

def fixtures():
    B = Builder
    out = []

    def add(b, checks, time_for_reference=None):
        out.append((b, checks, time_for_reference))

    add(B("k2_lstm_stack", "k2", 6, 3).lstm(5, return_sequences=True).lstm(4).dense(2),
        "Keras 2.2.4 Sequential; LSTM(5, seq) -> LSTM(4) -> Dense(2); recurrent hard_sigmoid in the Keras 2 "
        "meaning clip(0.2x+0.5); weights lstm_1/kernel:0 ...")
    add(B("k2_old_list_config", "k2old", 5, 2).lstm(4).dense(1),
        "Keras 2.0.8 style: Sequential model_config 'config' is a plain list of layers; first layer carries "
        "batch_input_shape; hard_sigmoid (Keras 2)")
    add(B("k3_lstm_stack", "k3", 7, 3, seed=9).lstm(5, return_sequences=True, recurrent_activation="hard_sigmoid")
        .dropout(0.2).lstm(4, recurrent_activation="hard_sigmoid").dense(3, activation="relu").dense(1),
        "Keras 3.10 legacy h5: vlen-string attrs, InputLayer batch_shape, DTypePolicy dtype, weights "
        "sequential/lstm/lstm_cell/kernel, top_level_model_weights; recurrent hard_sigmoid in the Keras 3 "
        "meaning relu6(x+3)/6; Dropout is identity")
    add(B("k2_gru_reset_after", "tf2", 6, 3).gru(4, reset_after=True).dense(1),
        "tf.keras 2.4.0 Sequential (InputLayer first in config), GRU reset_after=True: bias [2, 3U] (row 0 "
        "input, row 1 recurrent); weights gru/gru_cell/kernel:0")
    add(B("k2_gru_reset_before", "k2", 6, 3).gru(4, reset_after=False).dense(1),
        "Keras 2.2.4 GRU reset_after=False (bias [3U], reset gate applied before the recurrent matmul), "
        "hard_sigmoid (Keras 2)")
    add(B("k3_gru", "k3", 6, 2).gru(5).dense(2),
        "Keras 3 GRU (reset_after=True default, bias [2, 3U]); weights sequential/gru/gru_cell/kernel")
    add(B("k2_simple_rnn_relu", "k2", 6, 3).simple_rnn(5, activation="relu", return_sequences=True)
        .simple_rnn(3).dense(1),
        "Keras 2.2.4 SimpleRNN(relu, seq) -> SimpleRNN(tanh) -> Dense(1)")
    add(B("k2_bidirectional_concat", "k2", 5, 3).bidirectional("LSTM", 4, "concat", return_sequences=True)
        .lstm(3).dense(1),
        "Bidirectional(LSTM(4, seq), concat) -> LSTM(3) -> Dense(1): backward outputs re-reversed to time "
        "order before concat; weights bidirectional_1/forward_lstm_1/kernel:0 then backward")
    add(B("k2_bidirectional_sum", "k2", 5, 3).bidirectional("LSTM", 4, "sum").dense(2),
        "Bidirectional(LSTM(4), sum) -> Dense(2), Keras 2.2.4")
    add(B("k2_bidirectional_mul", "tf2", 5, 2).bidirectional("LSTM", 3, "mul", return_sequences=True)
        .flatten().dense(1),
        "tf.keras 2.4.0 Bidirectional(LSTM(3, seq), mul) -> Flatten -> Dense(1); weights "
        "bidirectional/forward_lstm/lstm_cell/kernel:0")
    add(B("k2_bidirectional_ave", "tf2", 5, 3).bidirectional("LSTM", 4, "ave").dense(1),
        "tf.keras 2.4.0 Bidirectional(LSTM(4), ave) -> Dense(1)")
    add(B("k3_bidirectional_concat", "k3", 5, 3).bidirectional("LSTM", 4, "concat").dense(1),
        "Keras 3 Bidirectional(LSTM(4), concat): config has 'layer' (forward_lstm) and 'backward_layer' "
        "(backward_lstm, go_backwards true); weights sequential/bidirectional/forward_lstm/lstm_cell/kernel ... "
        "then backward")
    add(B("k2_bidir_gru_seq_timedistributed", "k2", 5, 2)
        .bidirectional("GRU", 3, "concat", return_sequences=True, reset_after=False).time_distributed_dense(1),
        "Bidirectional(GRU(3, seq, reset_after=False)) -> TimeDistributed(Dense(1)); output [B, T, 1]; "
        "weights time_distributed_1/kernel:0")
    add(B("k2_dense3d_flatten", "k2", 4, 3).lstm(4, return_sequences=True).dense(3).flatten().dense(2),
        "Dense(3) on a 3-D tensor (last axis) -> Flatten (row-major) -> Dense(2)")
    add(B("k2_encoder_decoder", "k2", 5, 2).lstm(5).repeat_vector(3).lstm(4, return_sequences=True)
        .time_distributed_dense(1),
        "encoder-decoder: LSTM(5) -> RepeatVector(3) -> LSTM(4, seq) -> TimeDistributed(Dense(1)); output [B, 3, 1]")
    add(B("k2_reshape", "k2", 5, 2).lstm(4).dense(6).reshape([3, 2]).lstm(3).dense(1),
        "LSTM(4) -> Dense(6) -> Reshape([3, 2]) -> LSTM(3) -> Dense(1)")
    add(B("k2_activations", "k2", 5, 3).lstm(4, activation="relu", recurrent_activation="sigmoid").dense(5)
        .activation("tanh").dense(3).activation("softmax"),
        "LSTM(activation relu, recurrent sigmoid) -> Dense -> Activation(tanh) -> Dense -> Activation(softmax)")
    add(B("k2_masking", "k2", 6, 3).masking(0.0).lstm(4),
        "Masking(0.0) -> LSTM(4): window 0 has steps 1 and 5 (the last) all-zero, window 2 has steps 0 and 3; "
        "masked steps keep state and output unchanged")
    add(B("k2_go_backwards", "k2", 5, 2).lstm(4, go_backwards=True, return_sequences=True)
        .lstm(3, go_backwards=True).dense(1),
        "LSTM(go_backwards, seq): output sequence in processing (reversed) order -> LSTM(go_backwards) -> Dense")
    add(B("k2_no_bias", "k2", 5, 3).lstm(4, use_bias=False).dense(1, use_bias=False),
        "use_bias=false: no bias datasets, weight_names lists only kernel and recurrent_kernel")
    add(B("k2_none_time", "tf1", None, 2, functional=True).lstm(4).dense(1),
        "tf.keras 2.2.4-tf functional Model with batch_input_shape [null, null, 2] (variable time); reference "
        "uses T=7", 7)
    add(B("k2_functional", "k2", 6, 3, functional=True).lstm(4, return_sequences=True).lstm(3)
        .dense(2, activation="softmax"),
        "Keras 2.2.4 functional 'Model': InputLayer + inbound_nodes [[[name, 0, 0, {}]]], input_layers / "
        "output_layers; input layer listed in layer_names with empty weight_names")
    add(B("k3_functional", "k3", 6, 3, functional=True).lstm(4).dense(2),
        "Keras 3 'Functional': inbound_nodes [{args: [__keras_tensor__ ... keras_history]}, kwargs], weights "
        "without model prefix (lstm/lstm_cell/kernel)")
    add(B("k2_unsupported", "k2", 6, 2).conv1d(4, 2).lstm(3).dense(1),
        "contains Conv1D: the converter must refuse it (expected.json has 'refused': 'Conv1D')")
    return out


def write_expected(path, d):
    with open(path, "w") as f:
        json.dump(d, f, indent=1)
        f.write("\n")


def make_synthetic(outdir):
    written = []
    for b, checks, t_ref in fixtures():
        h5 = os.path.join(outdir, b.name + ".h5")
        b.write(h5)
        T = b.input_shape[1] if b.input_shape[1] is not None else t_ref
        F = b.input_shape[2]
        x = np.random.default_rng(1).random([3, T, F]).astype(np.float32)
        gen = "numpy.random.default_rng(1).random([3, %d, %d]).astype(float32)" % (T, F)
        if b.name == "k2_masking":
            x[0, 1, :] = 0.0
            x[0, 5, :] = 0.0
            x[2, 0, :] = 0.0
            x[2, 3, :] = 0.0
            gen += "; then x[0,1]=x[0,5]=x[2,0]=x[2,3]=0 (whole time steps masked)"
        d = {"model": b.name + ".h5", "keras_version": b.version, "generator": gen,
             "input_layout": "Keras NWC [batch, timesteps, features]",
             "inputs": x.tolist(), "input_shape": list(x.shape)}
        try:
            y = forward(h5, x)
            d["outputs"] = y.tolist()
            d["output_shape"] = list(y.shape)
            assert list(y.shape[1:]) == [s for s in b.shape[1:]], (b.name, y.shape, b.shape)
            # self-checks: outputs differ between windows, and hard_sigmoid's version matters
            assert np.ptp(y, axis=0).max() > 1e-3, (b.name, "outputs barely depend on the input")
            if "hard_sigmoid" in json.dumps(b.model_config()):
                other = forward(h5, x, keras3=b.flavour != "k3")
                assert np.abs(other - y).max() > 1e-3, (b.name, "hard_sigmoid version does not matter")
        except Refused as e:
            d["refused"] = str(e)
        d["layers"] = layer_classes(h5)
        d["checks"] = checks
        d["arithmetic"] = "float64 over float32 weights and inputs"
        write_expected(os.path.join(outdir, b.name + ".expected.json"), d)
        written.append(b.name)
    return written


# --------------------------------------------------------------------------------------------------
# Trained fixture: univariate LSTM(16) -> Dense(1) on the DAX column, window 60
# --------------------------------------------------------------------------------------------------

def make_stock(outdir, lookback=60, units=16):
    import torch

    torch.manual_seed(0)
    torch.set_num_threads(2)
    np.random.seed(0)
    with open(DATA_CSV) as f:
        header = f.readline().strip().split(",")
        col = header.index("DAX")
        raw = np.array([float(line.split(",")[col]) for line in f if line.strip()], dtype=np.float64)
    n = len(raw)
    train_rows = int(n * 0.8)
    # MinMaxScaler(feature_range=(0, 1)) fitted on the training rows, as scikit-learn computes it
    data_min = raw[:train_rows].min()
    data_max = raw[:train_rows].max()
    scaled = ((raw - data_min) / (data_max - data_min)).astype(np.float32)

    train = scaled[:train_rows]
    xs = np.stack([train[i:i + lookback] for i in range(train_rows - lookback)])[:, :, None]
    ys = train[lookback:train_rows][:, None]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = torch.nn.LSTM(1, units, batch_first=True)
            self.fc = torch.nn.Linear(units, 1)

        def forward(self, x):
            o, _ = self.lstm(x)
            return self.fc(o[:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    X = torch.from_numpy(xs)
    Y = torch.from_numpy(ys)
    g = torch.Generator().manual_seed(0)
    loss_v = None
    for epoch in range(12):
        perm = torch.randperm(len(X), generator=g)
        for s in range(0, len(X), 64):
            idx = perm[s:s + 64]
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(X[idx]), Y[idx])
            loss.backward()
            opt.step()
        with torch.no_grad():
            loss_v = float(torch.nn.functional.mse_loss(net(X), Y))
    # PyTorch gate order i, f, g, o == Keras i, f, c, o
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()}
    kernel = sd["lstm.weight_ih_l0"].T.copy()
    rkernel = sd["lstm.weight_hh_l0"].T.copy()
    bias = (sd["lstm.bias_ih_l0"].astype(np.float64) + sd["lstm.bias_hh_l0"]).astype(np.float32)

    b = Builder("stock_lstm_w60", "tf2", lookback, 1)
    b.lstm(units).dense(1)
    lw = b.layers[0]["weights"]
    b.layers[0]["weights"] = [(lw[0][0], kernel), (lw[1][0], rkernel), (lw[2][0], bias)]
    dw = b.layers[1]["weights"]
    b.layers[1]["weights"] = [(dw[0][0], sd["fc.weight"].T.copy()), (dw[1][0], sd["fc.bias"].copy())]
    h5 = os.path.join(outdir, b.name + ".h5")
    b.write(h5)

    starts = [train_rows - lookback + 10, train_rows + 150, n - lookback - 1]
    xw = np.stack([scaled[s:s + lookback] for s in starts])[:, :, None]
    y = forward(h5, xw)
    with torch.no_grad():
        yt = net(torch.from_numpy(xw)).numpy()
    torch_diff = float(np.max(np.abs(yt - y)))
    assert torch_diff < 1e-4, torch_diff
    rng_ = data_max - data_min
    d = {"model": b.name + ".h5", "keras_version": b.version,
         "generator": "3 real windows of the scaled DAX column of data/eustockmarkets_daily.csv, starting at rows "
                      + str(starts),
         "input_layout": "Keras NWC [batch, timesteps, features]",
         "inputs": xw.tolist(), "input_shape": list(xw.shape),
         "outputs": y.tolist(), "output_shape": list(y.shape),
         "layers": layer_classes(h5),
         "scale_min": [float(data_min)], "scale_max": [float(data_max)],
         "lookback": lookback, "column": "DAX", "train_rows": train_rows,
         "window_start_rows": starts,
         "raw_windows": [raw[s:s + lookback].tolist() for s in starts],
         "forecast_raw": (y * rng_ + data_min).tolist(),
         "actual_next_raw": [float(raw[s + lookback]) for s in starts],
         "training": "torch %s LSTM(1, %d) + Linear(%d, 1), Adam lr 0.01, batch 64, 12 epochs, seed 0; final "
                     "train MSE (scaled) %.3g" % (torch.__version__, units, units, loss_v),
         "checks": "trained univariate LSTM(16) -> Dense(1), tf.keras 2.4.0 layout; MinMax scaling (0, 1) "
                   "fitted on the first 80% of rows; forecast_raw = output * (max - min) + min",
         "arithmetic": "float64 over float32 weights and inputs"}
    write_expected(os.path.join(outdir, b.name + ".expected.json"), d)
    return b.name, loss_v, torch_diff


def main(argv):
    skip_trained = "--skip-trained" in argv
    args = [a for a in argv if not a.startswith("--")]
    outdir = args[0] if args else os.path.join(HERE, "keras")
    os.makedirs(outdir, exist_ok=True)
    names = make_synthetic(outdir)
    if not skip_trained:
        name, loss, diff = make_stock(outdir)
        names.append(name)
        print("stock_lstm_w60: train MSE %.3g, torch vs numpy max diff %.2g" % (loss, diff))
    for n in names:
        print("wrote", os.path.join(outdir, n + ".h5"), "and .expected.json")


if __name__ == "__main__":
    main(sys.argv[1:])
