package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;

import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.InferParameter;
import org.lstmcast.grpc.proto.InferTensorContents;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;
import org.lstmcast.grpc.proto.ModelMetadataRequest;
import org.lstmcast.grpc.proto.ModelReadyRequest;
import org.lstmcast.grpc.proto.ServerLiveRequest;
import org.lstmcast.grpc.proto.ServerMetadataRequest;
import org.lstmcast.grpc.proto.ServerReadyRequest;

/**
 * The hostile corpus over gRPC: seeded requests on a real HTTP/2 channel to the packaged server, well-formed messages
 * with hostile contents through the generated stubs, and malformed protobuf bytes through a byte[] marshaller. Pass:
 * only the protocol's client-error codes (never INTERNAL or UNKNOWN, which say the server failed), no hang, the
 * process alive after every batch, and the same forecast before and after. Replay with
 * {@code -Dlstmcast.hostile.seed=N}.
 */
class GrpcHostileIT {
    static final int REQUESTS = 3000;
    static final int MALFORMED = 1500;
    static final int BATCH = 250;
    static final int THREADS = 8;
    static final int MAX_MESSAGE = 1 << 20;
    /** What a client's mistake may be answered with; DEADLINE_EXCEEDED (a hang), INTERNAL, UNKNOWN and the rest may not. */
    static final Set<Status.Code> ALLOWED = EnumSet.of(Status.Code.OK, Status.Code.INVALID_ARGUMENT,
            Status.Code.NOT_FOUND, Status.Code.RESOURCE_EXHAUSTED, Status.Code.UNAVAILABLE);

    @TempDir
    Path work;

    /** One request: what it is, for the report, and how to send it. */
    record Attack(String what, Function<ManagedChannel, Status.Code> send) {
    }

    @Test
    void wellFormedHostileMessagesGetClientErrorCodesOnly() throws Exception {
        long seed = Long.getLong("lstmcast.hostile.seed", System.nanoTime());
        System.out.println("gRPC hostile corpus seed: " + seed + " (replay with -Dlstmcast.hostile.seed=" + seed + ")");
        Random random = new Random(seed);
        List<Attack> corpus = new ArrayList<>();
        for (int i = 0; i < REQUESTS; i++) {
            corpus.add(attack(random));
        }
        run("well-formed", seed, corpus);
    }

    @Test
    void malformedProtobufBytesGetClientErrorCodesOnly() throws Exception {
        long seed = Long.getLong("lstmcast.hostile.seed", System.nanoTime());
        System.out.println("gRPC malformed-bytes seed: " + seed + " (replay with -Dlstmcast.hostile.seed=" + seed + ")");
        Random random = new Random(seed);
        List<Attack> corpus = new ArrayList<>();
        for (int i = 0; i < MALFORMED; i++) {
            corpus.add(malformed(random));
        }
        run("malformed-bytes", seed, corpus);
    }

    private void run(String name, long seed, List<Attack> corpus) throws Exception {
        Path repo = Files.createDirectories(work.resolve("repo"));
        ServerProcess.copy(FaultsIT.bundled("dax"), repo.resolve("dax/1/model.onnx"));
        ServerProcess.copy(FaultsIT.bundled("co2"), repo.resolve("co2/1/model.onnx"));
        try (ServerProcess server = ServerProcess.start("256m", work, repo, "--grpc-max-message-bytes",
                Integer.toString(MAX_MESSAGE))) {
            assertTrue(server.grpcPort > 0, server.logTail(5));
            ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort).usePlaintext()
                    .maxInboundMessageSize(64 << 20).build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
                float[] before = forecast(stub.modelInfer(good()));
                String restBefore = server.post("/v1/models/dax/forecast", REST_GOOD).body();

                ConcurrentMap<Status.Code, LongAdder> codes = new ConcurrentHashMap<>();
                List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
                ExecutorService pool = Executors.newFixedThreadPool(THREADS);
                try {
                    for (int from = 0; from < corpus.size(); from += BATCH) {
                        List<Future<?>> done = new ArrayList<>();
                        int end = Math.min(corpus.size(), from + BATCH);
                        for (int t = 0; t < THREADS; t++) {
                            int first = from + t;
                            done.add(pool.submit(() -> {
                                for (int i = first; i < end; i += THREADS) {
                                    Attack a = corpus.get(i);
                                    Status.Code code = a.send().apply(channel);
                                    codes.computeIfAbsent(code, c -> new LongAdder()).increment();
                                    if (!ALLOWED.contains(code)) {
                                        unexpected.add(code + " for #" + i + " " + a.what());
                                    }
                                }
                                return null;
                            }));
                        }
                        for (Future<?> f : done) {
                            f.get();
                        }
                        // After every batch: a crash or a wedged listener shows here, next to the batch that did it.
                        assertTrue(server.isAlive(), "REST alive after requests " + from + ".." + end + ":\n"
                                + server.logTail(30));
                        assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive(),
                                "gRPC alive after requests " + from + ".." + end);
                    }
                } finally {
                    pool.shutdownNow();
                }
                Map<Status.Code, Long> counts = new TreeMap<>();
                codes.forEach((c, n) -> counts.put(c, n.sum()));
                System.out.printf("gRPC %s corpus: seed %d, %d requests, codes %s%n", name, seed, corpus.size(), counts);
                unexpected.stream().limit(20).forEach(u -> System.out.println("  unexpected: " + u));

                assertEquals(corpus.size(), counts.values().stream().mapToLong(Long::longValue).sum(), "every request answered");
                assertEquals(List.of(), unexpected.subList(0, Math.min(20, unexpected.size())),
                        "only " + ALLOWED + "; no INTERNAL, UNKNOWN or hang (seed " + seed + ")");
                assertTrue(counts.getOrDefault(Status.Code.INVALID_ARGUMENT, 0L) > 0, "the corpus reached the checks: " + counts);
                assertArrayEquals(before, forecast(stub.modelInfer(good())), "the same gRPC forecast as before the attack");
                assertEquals(restBefore, server.post("/v1/models/dax/forecast", REST_GOOD).body(),
                        "the same REST forecast as before the attack");
                assertTrue(server.log.stream().noneMatch(l -> l.contains("internal error")), server.logTail(40));
            } finally {
                channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
            }
            assertEquals(0, server.terminate());
        }
    }

    static final String REST_GOOD = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "4321.5")) + "]], \"horizon\": 5}";

    static ModelInferRequest good() {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (int i = 0; i < 30; i++) {
            c.addFp32Contents(4321.5f);
        }
        return ModelInferRequest.newBuilder().setModelName("dax").addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                .setName("input").setDatatype("FP32").addAllShape(List.of(1L, 30L, 1L)).setContents(c)).build();
    }

    static float[] forecast(ModelInferResponse r) {
        List<Float> list = r.getOutputs(0).getContents().getFp32ContentsList();
        float[] f = new float[list.size()];
        for (int i = 0; i < f.length; i++) {
            f[i] = list.get(i);
        }
        assertEquals(5, f.length, r.toString());
        return f;
    }

    // ---- well-formed messages with hostile contents ----

    static final String[] NAMES = {"dax", "co2", "dax", "DAX", "nope", "", "..", "../..", "dax/../co2", "a".repeat(300),
        "dax\u0000", "\u00e9t\u00e9", "\uD83D\uDCA5", "dax.onnx", "-", " dax"};
    static final String[] VERSIONS = {"", "", "1", "2", "0", "-1", "01", "99999999999999999999", "..", "1.5", "x"};
    static final String[] DATATYPES = {"FP32", "FP32", "FP64", "INT32", "INT64", "UINT8", "UINT32", "UINT64", "INT8",
        "BOOL", "BYTES", "FP16", "BF16", "", "fp32", "float", "FP32 ", "\u0000"};
    static final long[] DIMS = {1, 1, 2, 30, 30, 31, 64, 0, -1, -5, 1L << 31, 4294967296L, Long.MAX_VALUE, Long.MIN_VALUE,
        100_000, 1 << 20};
    static final String[] INPUT_NAMES = {"input", "input", "input", "", "x", "forecast", "INPUT", "input\u0000"};

    static Attack attack(Random r) {
        int kind = r.nextInt(100);
        if (kind < 6) {
            return valid(r);
        } else if (kind < 40) {
            return infer(r, false);
        } else if (kind < 65) {
            return infer(r, true);
        } else if (kind < 72) {
            return hugeShapeLittleData(r);
        } else if (kind < 80) {
            return inputsAndRawMismatch(r);
        } else if (kind < 88) {
            return metadataOrReady(r);
        } else if (kind < 90) {
            return oversized(r);
        } else if (kind < 95) {
            return outputsAndParameters(r);
        } else {
            return serverCalls(r);
        }
    }

    /** Requests a working server answers with OK: the storm's mixed-in legitimate traffic. */
    static Attack valid(Random r) {
        int windows = 1 + r.nextInt(4);
        int steps = 30 + r.nextInt(10);
        boolean raw = r.nextBoolean();
        float[] values = levels(r, windows * steps);
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(r.nextBoolean() ? "dax" : "co2")
                .setId("ok-" + r.nextInt(1000));
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder().setName("input")
                .setDatatype("FP32").addAllShape(List.of((long) windows, (long) steps, 1L));
        if (raw) {
            b.addRawInputContents(littleEndian(values));
        } else {
            t.setContents(fp32(values));
        }
        ModelInferRequest req = b.addInputs(t).build();
        return new Attack("valid " + windows + "x" + steps + (raw ? " raw" : " typed"), ch -> infer(ch, req));
    }

    static Attack infer(Random r, boolean raw) {
        // Half of them name a served model and its default version, so that they reach the tensor checks.
        String model = r.nextBoolean() ? "dax" : NAMES[r.nextInt(NAMES.length)];
        String version = r.nextBoolean() ? "" : VERSIONS[r.nextInt(VERSIONS.length)];
        String datatype = DATATYPES[r.nextInt(DATATYPES.length)];
        long[] shape = shape(r);
        long product = product(shape);
        // A count that matches the shape, is one off, or is unrelated to it.
        int count = switch (r.nextInt(4)) {
            case 0 -> product >= 0 && product <= 10_000 ? (int) product : r.nextInt(100);
            case 1 -> product >= 1 && product <= 10_000 ? (int) product - 1 : 0;
            case 2 -> product >= 0 && product <= 10_000 ? (int) product + 1 : 1;
            default -> r.nextInt(200);
        };
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(model).setModelVersion(version);
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder()
                .setName(INPUT_NAMES[r.nextInt(INPUT_NAMES.length)]).setDatatype(datatype);
        for (long d : shape) {
            t.addShape(d);
        }
        String what;
        if (raw) {
            // Whole values, or a byte count that is no multiple of any element size.
            int bytes = count * 4 + (r.nextInt(4) == 0 ? 1 + r.nextInt(3) : 0);
            byte[] data = new byte[bytes];
            r.nextBytes(data); // random bits: NaN, infinities and denormals among them
            if (r.nextBoolean()) {
                ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(levels(r, bytes / 4));
            }
            b.addRawInputContents(ByteString.copyFrom(data));
            what = "raw " + bytes + " bytes";
        } else {
            t.setContents(contents(r, count));
            what = "typed " + count + " values";
        }
        ModelInferRequest req = b.addInputs(t).build();
        return new Attack("infer model='" + clip(model) + "' version='" + version + "' " + datatype + " shape "
                + Arrays.toString(shape) + " " + what, ch -> infer(ch, req));
    }

    /** A shape whose product is astronomically large (or overflows), with a handful of values. */
    static Attack hugeShapeLittleData(Random r) {
        long[][] shapes = {{1L << 20, 1L << 20, 1}, {4294967296L, 4294967296L, 1}, {Long.MAX_VALUE, 30, 1},
            {1, Long.MAX_VALUE, 1}, {3037000500L, 3037000500L, 1}, {1, 30, 1L << 40}, {1 << 30, 30, 1}};
        long[] shape = shapes[r.nextInt(shapes.length)];
        boolean raw = r.nextBoolean();
        float[] values = levels(r, 30);
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName("dax");
        ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder().setName("input")
                .setDatatype("FP32");
        for (long d : shape) {
            t.addShape(d);
        }
        if (raw) {
            b.addRawInputContents(littleEndian(values));
        } else {
            t.setContents(fp32(values));
        }
        ModelInferRequest req = b.addInputs(t).build();
        return new Attack("huge shape " + Arrays.toString(shape) + (raw ? " raw" : " typed") + " with 30 values",
                ch -> infer(ch, req));
    }

    /** Several inputs or none, raw entries for fewer or more inputs than given, raw and typed at once. */
    static Attack inputsAndRawMismatch(Random r) {
        int inputs = r.nextInt(4);
        int raws = r.nextInt(4);
        boolean typedToo = r.nextBoolean();
        ModelInferRequest.Builder b = ModelInferRequest.newBuilder().setModelName(r.nextBoolean() ? "dax" : "co2");
        for (int i = 0; i < inputs; i++) {
            ModelInferRequest.InferInputTensor.Builder t = ModelInferRequest.InferInputTensor.newBuilder()
                    .setName(i == 0 ? "input" : INPUT_NAMES[r.nextInt(INPUT_NAMES.length)]).setDatatype("FP32")
                    .addAllShape(List.of(1L, 30L, 1L));
            if (typedToo) {
                t.setContents(fp32(levels(r, 30)));
            }
            b.addInputs(t);
        }
        for (int i = 0; i < raws; i++) {
            b.addRawInputContents(littleEndian(levels(r, 30)));
        }
        ModelInferRequest req = b.build();
        return new Attack("inputs " + inputs + ", raw entries " + raws + (typedToo ? ", typed contents too" : ""),
                ch -> infer(ch, req));
    }

    static Attack metadataOrReady(Random r) {
        String model = NAMES[r.nextInt(NAMES.length)];
        String version = VERSIONS[r.nextInt(VERSIONS.length)];
        if (r.nextBoolean()) {
            ModelMetadataRequest req = ModelMetadataRequest.newBuilder().setName(model).setVersion(version).build();
            return new Attack("metadata '" + clip(model) + "' version '" + version + "'",
                    ch -> call(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                            .modelMetadata(req)));
        }
        ModelReadyRequest req = ModelReadyRequest.newBuilder().setName(model).setVersion(version).build();
        return new Attack("ready '" + clip(model) + "' version '" + version + "'",
                ch -> call(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                        .modelReady(req)));
    }

    /** Just over the server's message limit: refused before parsing, whatever it holds. */
    static Attack oversized(Random r) {
        int bytes = MAX_MESSAGE + 1 + r.nextInt(4096);
        // Built when sent, so the corpus does not hold a megabyte per oversized request.
        return new Attack("oversized raw of " + bytes + " bytes", ch -> infer(ch, ModelInferRequest.newBuilder()
                .setModelName("dax").addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input")
                        .setDatatype("FP32").addAllShape(List.of(1L, (long) bytes / 4, 1L)))
                .addRawInputContents(ByteString.copyFrom(new byte[bytes])).build()));
    }

    /** Output filters naming nothing, everything twice or nonsense, and parameters of every kind. */
    static Attack outputsAndParameters(Random r) {
        ModelInferRequest.Builder b = good().toBuilder().setModelName(r.nextBoolean() ? "dax" : "co2");
        String[] outputs = {"forecast", "", "nope", "input", "forecast"};
        int n = r.nextInt(4);
        for (int i = 0; i < n; i++) {
            b.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName(outputs[r.nextInt(outputs.length)])
                    .putParameters("binary_data", InferParameter.newBuilder().setBoolParam(r.nextBoolean()).build()));
        }
        b.putParameters("priority", InferParameter.newBuilder().setInt64Param(r.nextLong()).build());
        b.putParameters("", InferParameter.newBuilder().setStringParam("x".repeat(r.nextInt(1000))).build());
        b.putParameters("timeout", InferParameter.getDefaultInstance());
        ModelInferRequest req = b.build();
        return new Attack("outputs " + req.getOutputsList().stream().map(o -> "'" + o.getName() + "'").toList()
                + " with parameters", ch -> infer(ch, req));
    }

    static Attack serverCalls(Random r) {
        return switch (r.nextInt(3)) {
            case 0 -> new Attack("ServerLive", ch -> call(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(20, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance())));
            case 1 -> new Attack("ServerReady", ch -> call(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(20, TimeUnit.SECONDS).serverReady(ServerReadyRequest.getDefaultInstance())));
            default -> new Attack("ServerMetadata", ch -> call(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(20, TimeUnit.SECONDS).serverMetadata(ServerMetadataRequest.getDefaultInstance())));
        };
    }

    // ---- malformed protobuf bytes ----

    static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream in) {
            try {
                return in.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };
    static final String[] METHODS = {"ModelInfer", "ModelInfer", "ModelInfer", "ModelMetadata", "ModelReady",
        "ServerLive", "ServerMetadata"};

    static Attack malformed(Random r) {
        String method = METHODS[r.nextInt(METHODS.length)];
        byte[] valid = good().toBuilder().setId("id-" + r.nextInt(100)).build().toByteArray();
        byte[] bytes;
        String what;
        switch (r.nextInt(7)) {
            case 0 -> {
                bytes = new byte[r.nextInt(200)];
                r.nextBytes(bytes);
                what = "random";
            }
            case 1 -> {
                bytes = Arrays.copyOf(valid, 1 + r.nextInt(valid.length - 1));
                what = "truncated";
            }
            case 2 -> {
                bytes = valid.clone();
                for (int i = 1 + r.nextInt(4); i > 0; i--) {
                    bytes[r.nextInt(bytes.length)] = (byte) r.nextInt(256);
                }
                what = "bytes flipped";
            }
            case 3 -> {
                // model_name (field 1, length-delimited) holding invalid UTF-8, which proto3 forbids in strings
                bytes = new byte[] {0x0a, 0x02, (byte) 0xc3, 0x28};
                what = "invalid UTF-8 string";
            }
            case 4 -> {
                // a length prefix far past the end of the message
                bytes = new byte[] {0x2a, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x07, 0x01};
                what = "length past the end";
            }
            case 5 -> {
                // field 1 with wire type 0 (varint) where a string is declared, then an end-group tag with no group
                bytes = new byte[] {0x08, 0x01, 0x0c};
                what = "wrong wire types";
            }
            default -> {
                // a varint of eleven bytes: longer than any varint may be
                bytes = new byte[] {0x10, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff,
                    (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01};
                what = "overlong varint";
            }
        }
        MethodDescriptor<byte[], byte[]> descriptor = MethodDescriptor.<byte[], byte[]>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(GRPCInferenceServiceGrpc.SERVICE_NAME, method))
                .setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
        byte[] body = bytes;
        return new Attack(method + " " + what + " " + HexFormat.of().formatHex(body, 0, Math.min(body.length, 48))
                + (body.length > 48 ? "..." : ""),
                ch -> call(() -> ClientCalls.blockingUnaryCall(ch, descriptor,
                        CallOptions.DEFAULT.withDeadlineAfter(20, TimeUnit.SECONDS), body)));
    }

    // ---- helpers ----

    static Status.Code infer(ManagedChannel ch, ModelInferRequest req) {
        return call(() -> GRPCInferenceServiceGrpc.newBlockingStub(ch).withDeadlineAfter(20, TimeUnit.SECONDS)
                .modelInfer(req));
    }

    /** The call's status code: OK for an answer, the status for a refusal, DEADLINE_EXCEEDED for a hang. */
    static Status.Code call(Supplier<?> call) {
        try {
            call.get();
            return Status.Code.OK;
        } catch (StatusRuntimeException e) {
            return e.getStatus().getCode();
        }
    }

    static long[] shape(Random r) {
        long[] shape = new long[r.nextInt(6)];
        for (int i = 0; i < shape.length; i++) {
            shape[i] = DIMS[r.nextInt(DIMS.length)];
        }
        if (shape.length == 3 && r.nextBoolean()) {
            shape[2] = 1; // often one feature, so more requests get past the rank check to the deeper ones
        }
        return shape;
    }

    /** The product of the dims, or -1 when one is negative or it overflows. */
    static long product(long[] shape) {
        long p = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            try {
                p = Math.multiplyExact(p, d);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return p;
    }

    /** Values in the field a datatype names, in the FP32 field whatever the datatype, or in several fields at once. */
    static InferTensorContents contents(Random r, int count) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        int field = r.nextInt(9);
        for (int i = 0; i < count; i++) {
            switch (field) {
                case 0, 1, 2 -> c.addFp32Contents(r.nextInt(20) == 0 ? Float.NaN : 4000 + 100 * (float) r.nextGaussian());
                case 3 -> c.addFp64Contents(r.nextInt(20) == 0 ? Double.POSITIVE_INFINITY : 4000 + r.nextGaussian());
                case 4 -> c.addIntContents(r.nextInt());
                case 5 -> c.addInt64Contents(r.nextLong());
                case 6 -> c.addUintContents(r.nextInt());
                case 7 -> c.addUint64Contents(r.nextLong());
                default -> {
                    c.addBoolContents(r.nextBoolean());
                    c.addBytesContents(ByteString.copyFromUtf8("x"));
                    c.addFp32Contents(1f);
                }
            }
        }
        return c.build();
    }

    static float[] levels(Random r, int n) {
        float[] v = new float[n];
        float level = 3000 + 3000 * r.nextFloat();
        for (int i = 0; i < n; i++) {
            level *= 1 + 0.01f * (float) r.nextGaussian();
            v[i] = level;
        }
        return v;
    }

    static InferTensorContents fp32(float[] values) {
        InferTensorContents.Builder c = InferTensorContents.newBuilder();
        for (float v : values) {
            c.addFp32Contents(v);
        }
        return c.build();
    }

    static ByteString littleEndian(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return ByteString.copyFrom(b.array());
    }

    static String clip(String s) {
        return s.length() > 20 ? s.substring(0, 20) + "..." : s;
    }
}
