#!/usr/bin/python3
"""An Open Inference Protocol gRPC client written apart from the server, on the distribution's grpcio.

It reads the repository's .proto at run time instead of shipping generated code: grpc_tools' protoc (Debian's 1.14)
writes a descriptor set, and google.protobuf builds the message classes from it. Generated Python code is tied to the
protobuf runtime that generated it, a descriptor set is not, so this works across the grpcio and protobuf versions a
distribution pairs.

Every RPC of inference.GRPCInferenceService is called, plus grpc.health.v1.Health/Check (hand-encoded: Debian ships no
grpc_health module). Forecasts are checked against the server's REST forecast route, a separate code path, so both
protocols must agree on the numbers. Prints one JSON summary on stdout; exit code 0 only when every check passed.

    grpc_client.py --grpc 127.0.0.1:8081 --rest http://127.0.0.1:8080 [--api-key KEY] [--max-message-bytes N]
"""

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import traceback
import urllib.request

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src", "main", "protobuf",
                     "grpc_predict_v2.proto")
SERVICE = "/inference.GRPCInferenceService/"

# The 30 DAX closes of the README's example: a real window in the model's own units.
WINDOW = [5942.06, 5975.88, 6018.89, 6000.84, 6001.24, 6023.31, 6101.9, 6106.1, 6108, 6162.86, 6186.09, 6184.1,
          6081.11, 6043.82, 6040.58, 5854.35, 5867.52, 5828.74, 5906.33, 5861.19, 5774.38, 5718.7, 5614.77, 5528.12,
          5598.32, 5460.43, 5285.78, 5386.94, 5355.03, 5473.72]


def load_messages(proto_path):
    """Message classes by short name, built from a descriptor set that protoc writes for the .proto."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        # protoc in a child process: grpc_tools.protoc.main calls exit paths of its own on some errors.
        run = subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I" + os.path.dirname(proto_path),
                              "--descriptor_set_out=" + out, os.path.basename(proto_path)],
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError("protoc failed: " + run.stderr)
        with open(out, "rb") as f:
            files = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    pool = descriptor_pool.DescriptorPool()
    for fd in files.file:
        pool.Add(fd)
    factory = message_factory.MessageFactory(pool)
    names = ["ServerLiveRequest", "ServerLiveResponse", "ServerReadyRequest", "ServerReadyResponse",
             "ModelReadyRequest", "ModelReadyResponse", "ServerMetadataRequest", "ServerMetadataResponse",
             "ModelMetadataRequest", "ModelMetadataResponse", "ModelInferRequest", "ModelInferResponse"]
    return {n: factory.GetPrototype(pool.FindMessageTypeByName("inference." + n)) for n in names}


class Client:
    def __init__(self, target, api_key, messages):
        # No client-side size limits: the server's own limit is what is under test.
        self.channel = grpc.insecure_channel(target, options=[("grpc.max_send_message_length", -1),
                                                              ("grpc.max_receive_message_length", -1)])
        self.m = messages
        self.api_key = api_key

    def call(self, method, request, key="default"):
        """Calls one RPC; key: "default" sends the configured key, None none, any other string that key."""
        response_type = self.m[method + "Response"]
        stub = self.channel.unary_unary(SERVICE + method, request_serializer=lambda r: r.SerializeToString(),
                                        response_deserializer=response_type.FromString)
        key = self.api_key if key == "default" else key
        metadata = [("authorization", "Bearer " + key)] if key else None
        return stub(request, metadata=metadata, timeout=30)

    def health(self, service, key=None):
        """grpc.health.v1.Health/Check by hand: request {1: service string}, response {1: status enum}."""
        body = service.encode("utf-8")
        request = (b"\x0a" + varint(len(body)) + body) if body else b""
        stub = self.channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
        metadata = [("authorization", "Bearer " + key)] if key else None
        return health_status(stub(request, metadata=metadata, timeout=30))


def varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def health_status(data):
    """The status field of a HealthCheckResponse (0 when absent, proto3's default: UNKNOWN)."""
    i = 0
    status = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag != 0x08:
            raise ValueError("unexpected field in HealthCheckResponse: %r" % data)
        value, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        status = value
    return {0: "UNKNOWN", 1: "SERVING", 2: "NOT_SERVING", 3: "SERVICE_UNKNOWN"}.get(status, str(status))


def rest_forecast(base, model, windows, api_key):
    """The same windows through the REST forecast route: the independent expectation."""
    request = urllib.request.Request(base + "/v1/models/" + model + "/forecast",
                                     data=json.dumps({"inputs": windows}).encode("utf-8"),
                                     headers={"Content-Type": "application/json"})
    if api_key:
        request.add_header("Authorization", "Bearer " + api_key)
    with urllib.request.urlopen(request, timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))["forecasts"]


def max_relative_error(got, want):
    if len(got) != len(want):
        return float("inf")
    return max((abs(g - w) / max(abs(w), 1e-30) for g, w in zip(got, want)), default=0.0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--grpc", required=True, help="host:port of the gRPC listener")
    parser.add_argument("--rest", required=True, help="base URL of the REST listener")
    parser.add_argument("--model", default="dax")
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--max-message-bytes", type=int, default=16 << 20,
                        help="the server's --grpc-max-message-bytes; one byte more must be refused")
    args = parser.parse_args()

    m = load_messages(PROTO)
    client = Client(args.grpc, args.api_key, m)
    checks = []
    summary = {"grpc_version": grpc.__version__, "checks": checks}

    def check(name, fn):
        """Runs one check: fn returns (passed, detail); an exception is a failed check with its reason."""
        try:
            passed, detail = fn()
        except grpc.RpcError as e:
            passed, detail = False, "unexpected %s: %s" % (e.code().name, e.details())
        except Exception as e:  # a failed check must still end up in the summary
            passed, detail = False, "".join(traceback.format_exception_only(type(e), e)).strip()
        checks.append({"name": name, "ok": bool(passed), "detail": detail})

    def expect_code(name, code, method, request, key="default", contains=None):
        def run():
            try:
                response = client.call(method, request, key=key)
                return False, "answered instead of %s: %s" % (code.name, str(response)[:200])
            except grpc.RpcError as e:
                detail = "%s: %s" % (e.code().name, e.details())
                return e.code() == code and (contains is None or contains in (e.details() or "")), detail
        check(name, run)

    def infer_request(windows, raw, rid=None, outputs=None, model=None, shape=None, datatype="FP32"):
        r = m["ModelInferRequest"](model_name=model or args.model)
        if rid is not None:
            r.id = rid
        t = r.inputs.add(name="input", datatype=datatype)
        t.shape.extend(shape or [len(windows), len(windows[0]), 1])
        flat = [v for w in windows for v in w]
        if raw:
            r.raw_input_contents.append(struct.pack("<%df" % len(flat), *flat))
        else:
            t.contents.fp32_contents.extend(flat)
        for o in outputs or []:
            r.outputs.add(name=o)
        return r

    def forecast_of(response, raw):
        """The 'forecast' output's values and shape, from raw_output_contents or typed contents."""
        names = [o.name for o in response.outputs]
        i = names.index("forecast")
        out = response.outputs[i]
        if raw:
            data = response.raw_output_contents[i]
            values = list(struct.unpack("<%df" % (len(data) // 4), data))
        else:
            values = list(out.contents.fp32_contents)
        return values, list(out.shape), out.datatype

    # The protocol's own calls.
    check("ServerLive", lambda: (client.call("ServerLive", m["ServerLiveRequest"]()).live, "live"))
    check("ServerReady", lambda: (client.call("ServerReady", m["ServerReadyRequest"]()).ready, "ready"))

    def server_metadata():
        r = client.call("ServerMetadata", m["ServerMetadataRequest"]())
        return r.name == "lstmcast" and r.version != "", "%s %s extensions=%s" % (r.name, r.version, list(r.extensions))
    check("ServerMetadata", server_metadata)

    def model_ready(name, want):
        r = client.call("ModelReady", m["ModelReadyRequest"](name=name))
        return r.ready == want, "ready=%s" % r.ready
    check("ModelReady known", lambda: model_ready(args.model, True))
    check("ModelReady unknown", lambda: model_ready("no-such-model", False))

    def model_metadata():
        r = client.call("ModelMetadata", m["ModelMetadataRequest"](name=args.model))
        ins = [(t.name, t.datatype, list(t.shape)) for t in r.inputs]
        outs = [(t.name, t.datatype, list(t.shape)) for t in r.outputs]
        passed = (r.name == args.model and "1" in r.versions and r.platform == "onnx_onnxv1"
                  and ins == [("input", "FP32", [-1, -1, 1])] and [o[0] for o in outs] == ["forecast"])
        return passed, "versions=%s platform=%s inputs=%s outputs=%s" % (list(r.versions), r.platform, ins, outs)
    check("ModelMetadata", model_metadata)

    # Forecasts: typed and raw, one window and three, each against REST's answer for the same windows.
    windows3 = [WINDOW, [v * 1.01 for v in WINDOW], list(reversed(WINDOW))]
    worst = {"value": 0.0}

    def infer_matches(windows, raw):
        def run():
            want = [v for f in rest_forecast(args.rest, args.model, windows, args.api_key) for v in f]
            response = client.call("ModelInfer", infer_request(windows, raw))
            got, shape, datatype = forecast_of(response, raw)
            err = max_relative_error(got, want)
            worst["value"] = max(worst["value"], err)
            if len(windows) == 1:
                summary.setdefault("forecast", got)
                summary.setdefault("expected", want)
            # A raw request gets raw outputs and no typed contents; a typed one the reverse.
            layout_ok = (len(response.raw_output_contents) == len(response.outputs)) == raw and (
                raw == (len(response.outputs[0].contents.fp32_contents) == 0))
            passed = (err <= 1e-6 and shape == [len(windows), len(want) // len(windows)] and datatype == "FP32"
                      and layout_ok and response.model_name == args.model and response.model_version == "1")
            return passed, "shape=%s max_rel_err=%.3g raw_outputs=%d" % (shape, err, len(response.raw_output_contents))
        return run
    check("ModelInfer typed fp32_contents", infer_matches([WINDOW], False))
    check("ModelInfer raw_input_contents", infer_matches([WINDOW], True))
    check("ModelInfer typed, 3 windows", infer_matches(windows3, False))
    check("ModelInfer raw, 3 windows", infer_matches(windows3, True))

    def id_echo():
        r = client.call("ModelInfer", infer_request([WINDOW], True, rid="client-42"))
        return r.id == "client-42", "id=%r" % r.id
    check("ModelInfer id echo", id_echo)

    def outputs_filter():
        r = client.call("ModelInfer", infer_request([WINDOW], False, outputs=["forecast"]))
        names = [o.name for o in r.outputs]
        return names == ["forecast"] and len(r.outputs[0].contents.fp32_contents) == 5, "outputs=%s" % names
    check("ModelInfer outputs filter", outputs_filter)

    # Errors, each with the code the protocol's REST status maps to.
    expect_code("unknown model -> NOT_FOUND", grpc.StatusCode.NOT_FOUND, "ModelInfer",
                infer_request([WINDOW], False, model="no-such-model"), contains="no-such-model")
    expect_code("unknown model metadata -> NOT_FOUND", grpc.StatusCode.NOT_FOUND, "ModelMetadata",
                m["ModelMetadataRequest"](name="no-such-model"))
    expect_code("zero dimension -> INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT, "ModelInfer",
                infer_request([[]], False, shape=[1, 0, 1]), contains="[1, 0, 1]")
    short = infer_request([WINDOW], True)
    short.raw_input_contents[0] = short.raw_input_contents[0][:-4]
    expect_code("raw bytes not matching the shape -> INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT,
                "ModelInfer", short)
    ragged = infer_request([WINDOW], True)
    ragged.raw_input_contents[0] = ragged.raw_input_contents[0][:-2]
    expect_code("raw bytes not a whole number of FP32 -> INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT,
                "ModelInfer", ragged)
    expect_code("typed contents not matching the shape -> INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT,
                "ModelInfer", infer_request([WINDOW], False, shape=[2, 30, 1]))
    expect_code("datatype without contents field -> INVALID_ARGUMENT", grpc.StatusCode.INVALID_ARGUMENT,
                "ModelInfer", infer_request([WINDOW], False, datatype="BYTES"))
    huge = infer_request([WINDOW], True)
    huge.raw_input_contents[0] = b"\0" * args.max_message_bytes
    expect_code("message over the limit -> RESOURCE_EXHAUSTED", grpc.StatusCode.RESOURCE_EXHAUSTED, "ModelInfer", huge)

    # The standard health service, which Kubernetes' gRPC probes call without credentials.
    check("health Check overall", lambda: (lambda s: (s == "SERVING", s))(client.health("")))
    check("health Check inference service",
          lambda: (lambda s: (s == "SERVING", s))(client.health("inference.GRPCInferenceService")))

    def health_unknown():
        try:
            return False, "answered " + client.health("no.such.Service")
        except grpc.RpcError as e:
            return e.code() == grpc.StatusCode.NOT_FOUND, e.code().name
    check("health Check unknown service -> NOT_FOUND", health_unknown)

    if args.api_key:
        expect_code("no API key -> UNAUTHENTICATED", grpc.StatusCode.UNAUTHENTICATED, "ModelInfer",
                    infer_request([WINDOW], True), key=None)
        expect_code("wrong API key -> UNAUTHENTICATED", grpc.StatusCode.UNAUTHENTICATED, "ModelInfer",
                    infer_request([WINDOW], True), key=args.api_key + "x")
        expect_code("no API key, metadata -> UNAUTHENTICATED", grpc.StatusCode.UNAUTHENTICATED, "ModelMetadata",
                    m["ModelMetadataRequest"](name=args.model), key=None)
        check("no API key, ServerLive open", lambda: (client.call("ServerLive", m["ServerLiveRequest"](), key=None).live,
                                                      "live"))
        check("no API key, health Check open", lambda: (lambda s: (s == "SERVING", s))(client.health("")))

    summary["max_relative_error"] = worst["value"]
    summary["passed"] = sum(1 for c in checks if c["ok"])
    summary["failed"] = [c["name"] for c in checks if not c["ok"]]
    print(json.dumps(summary, indent=1))
    return 0 if not summary["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
