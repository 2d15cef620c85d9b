package org.lstmcast.serve.grpc;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.InferTensorContents;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;
import org.lstmcast.grpc.proto.ModelMetadataRequest;
import org.lstmcast.grpc.proto.ModelMetadataResponse;
import org.lstmcast.grpc.proto.ModelReadyRequest;
import org.lstmcast.grpc.proto.ServerLiveRequest;
import org.lstmcast.grpc.proto.ServerMetadataRequest;
import org.lstmcast.grpc.proto.ServerReadyRequest;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;
import org.lstmcast.serve.server.InferenceServer;

/** The real server's gRPC port, called with stubs generated from the repository's .proto, beside its REST port. */
class GrpcTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    static Path repo;
    static InferenceServer server;
    static ManagedChannel channel;
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    static String rest;

    @BeforeAll
    static void start() throws Exception {
        ServeFixtures.copy(Path.of("src/test/resources/fixtures/dax_lstm.onnx"), repo.resolve("dax/1/model.onnx"));
        ServeFixtures.copy(ServeFixtures.fixture("helper_two_outputs.onnx"), repo.resolve("two/1/model.onnx"));
        ServeFixtures.copy(ServeFixtures.fixture("truncated.onnx"), repo.resolve("broken/1/model.onnx"));
        // A model whose batcher waits for company: concurrent calls must then share runs.
        ServeFixtures.copy(Path.of("src/test/resources/fixtures/dax_lstm.onnx"), repo.resolve("patient/1/model.onnx"));
        Files.writeString(repo.resolve("patient/config.json"), "{\"max_queue_delay_us\": 300000}");
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 64, 2, 0.2, ServeConfig.Limits.defaults(),
                "k3y").withGrpc(new ServeConfig.Grpc(0, 1 << 20));
        server = new InferenceServer(config);
        rest = "http://127.0.0.1:" + server.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        Metadata key = new Metadata();
        key.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer k3y");
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(key))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    private static float[] window(int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            w[i] = 5000f + 7.5f * i - (i % 3) * 20f;
        }
        return w;
    }

    private static ModelInferRequest.InferInputTensor.Builder input(String name, String datatype, long... shape) {
        ModelInferRequest.InferInputTensor.Builder b = ModelInferRequest.InferInputTensor.newBuilder().setName(name)
                .setDatatype(datatype);
        for (long d : shape) {
            b.addShape(d);
        }
        return b;
    }

    private static ByteString rawFloats(float[] values) {
        ByteBuffer b = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values);
        return ByteString.copyFrom(b.array());
    }

    private static float[] floats(ByteString raw) {
        FloatBuffer f = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] out = new float[f.remaining()];
        f.get(out);
        return out;
    }

    private static Status.Code code(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus().getCode();
    }

    @Test
    void serverAndModelMetadataAnswerAsRestDoes() throws Exception {
        assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(stub.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        var meta = stub.serverMetadata(ServerMetadataRequest.getDefaultInstance());
        assertEquals("lstmcast", meta.getName());
        assertTrue(meta.getExtensionsList().contains("binary_tensor_data"), meta.toString());
        assertTrue(stub.modelReady(ModelReadyRequest.newBuilder().setName("dax").build()).getReady());
        assertFalse(stub.modelReady(ModelReadyRequest.newBuilder().setName("broken").build()).getReady());
        assertFalse(stub.modelReady(ModelReadyRequest.newBuilder().setName("nope").build()).getReady());
        ModelMetadataResponse m = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("dax").build());
        assertEquals("onnx_onnxv1", m.getPlatform());
        assertEquals(List.of("1"), m.getVersionsList());
        assertEquals("input", m.getInputs(0).getName());
        assertEquals(List.of(-1L, -1L, 1L), m.getInputs(0).getShapeList());
        assertEquals("FP32", m.getOutputs(0).getDatatype());
        assertEquals(Status.Code.NOT_FOUND, code(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("nope").build())));
        assertEquals(Status.Code.UNAVAILABLE, code(() -> stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("broken").build())));
    }

    @Test
    void typedAndRawInferenceGiveTheRestForecast() throws Exception {
        float[] w = window(30);
        StringBuilder values = new StringBuilder();
        for (float v : w) {
            values.append(values.length() > 0 ? "," : "").append(v);
        }
        var http = HttpClient.newHttpClient();
        var post = HttpRequest.newBuilder(URI.create(rest + "/v1/models/dax/forecast"))
                .header("Authorization", "Bearer k3y")
                .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [[" + values + "]]}")).build();
        JsonNode forecast = JSON.readTree(http.send(post, HttpResponse.BodyHandlers.ofString()).body());
        float[] expected = new float[5];
        for (int h = 0; h < 5; h++) {
            expected[h] = forecast.path("forecasts").get(0).get(h).floatValue();
        }

        InferTensorContents.Builder typed = InferTensorContents.newBuilder();
        for (float v : w) {
            typed.addFp32Contents(v);
        }
        ModelInferResponse a = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("dax").setId("req-7")
                .addInputs(input("input", "FP32", 1, 30, 1).setContents(typed)).build());
        assertEquals("req-7", a.getId());
        assertEquals("1", a.getModelVersion());
        assertEquals(List.of(1L, 5L), a.getOutputs(0).getShapeList());
        assertEquals(0, a.getRawOutputContentsCount(), "typed in, typed out");
        float[] typedOut = new float[5];
        for (int h = 0; h < 5; h++) {
            typedOut[h] = a.getOutputs(0).getContents().getFp32Contents(h);
        }
        assertArrayEquals(expected, typedOut, 0f);

        ModelInferResponse b = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("dax").setModelVersion("1")
                .addInputs(input("input", "FP32", 1, 30, 1)).addRawInputContents(rawFloats(w)).build());
        assertEquals(1, b.getRawOutputContentsCount(), "raw in, raw out");
        assertArrayEquals(expected, floats(b.getRawOutputContents(0)), 0f);

        // FP64 raw contents are converted as JSON numbers are.
        ByteBuffer d = ByteBuffer.allocate(8 * 30).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : w) {
            d.putDouble(v);
        }
        ModelInferResponse c = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("dax")
                .addInputs(input("input", "FP64", 1, 30, 1)).addRawInputContents(ByteString.copyFrom(d.array())).build());
        assertArrayEquals(expected, floats(c.getRawOutputContents(0)), 0f);
    }

    @Test
    void theOutputsFilterIsHonoured() {
        float[] x = new float[3 * 2 * 2];
        Arrays.fill(x, 0.5f);
        ModelInferRequest.Builder r = ModelInferRequest.newBuilder().setModelName("two")
                .addInputs(input("x", "FP32", 3, 2, 2)).addRawInputContents(rawFloats(x));
        ModelInferResponse all = stub.modelInfer(r.build());
        assertEquals(2, all.getOutputsCount());
        ModelInferResponse one = stub.modelInfer(r.addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder()
                .setName("Y_h")).build());
        assertEquals(1, one.getOutputsCount());
        assertEquals("Y_h", one.getOutputs(0).getName());
        assertEquals(List.of(1L, 2L, 4L), one.getOutputs(0).getShapeList());
        assertArrayEquals(floats(all.getRawOutputContents(1)), floats(one.getRawOutputContents(0)), 0f);
    }

    @Test
    void clientMistakesAreStatusCodesWithRestsMessages() {
        float[] w = window(30);
        assertEquals(Status.Code.NOT_FOUND, code(() -> stub.modelInfer(ModelInferRequest.newBuilder().setModelName("nope")
                .addInputs(input("input", "FP32", 1, 30, 1)).addRawInputContents(rawFloats(w)).build())));
        for (long[] shape : new long[][] {{0, 30, 1}, {1, 0, 1}, {-1, 30, 1}, {1, 30}, {1, 29, 1}}) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(
                    ModelInferRequest.newBuilder().setModelName("dax").addInputs(input("input", "FP32", shape))
                            .addRawInputContents(ByteString.EMPTY).build()));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), Arrays.toString(shape));
            assertTrue(e.getStatus().getDescription().contains("input 'input'"), e.getStatus().getDescription());
        }
        StatusRuntimeException bytes = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(
                ModelInferRequest.newBuilder().setModelName("dax").addInputs(input("input", "FP32", 1, 30, 1))
                        .addRawInputContents(rawFloats(w).substring(0, 119)).build()));
        assertEquals(Status.Code.INVALID_ARGUMENT, bytes.getStatus().getCode());
        assertTrue(bytes.getStatus().getDescription().contains("whole number of FP32"), bytes.getStatus().getDescription());
        StatusRuntimeException fewer = assertThrows(StatusRuntimeException.class, () -> stub.modelInfer(
                ModelInferRequest.newBuilder().setModelName("dax").addInputs(input("input", "FP32", 1, 30, 1))
                        .addRawInputContents(rawFloats(w).substring(0, 116)).build()));
        assertTrue(fewer.getStatus().getDescription().contains("29 values; shape [1, 30, 1] needs 30"),
                fewer.getStatus().getDescription());
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> stub.modelInfer(ModelInferRequest.newBuilder()
                .setModelName("dax").addInputs(input("input", "BYTES", 1, 30, 1)).addRawInputContents(rawFloats(w)).build())));
        assertEquals(Status.Code.INVALID_ARGUMENT, code(() -> stub.modelInfer(ModelInferRequest.newBuilder()
                .setModelName("dax").addInputs(input("input", "FP32", 1, 30, 1)).build())), "no contents at all");
        // Over --grpc-max-message-bytes (1 MiB here): refused by gRPC itself before it is parsed.
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, code(() -> stub.modelInfer(ModelInferRequest.newBuilder()
                .setModelName("dax").addInputs(input("input", "FP32", 1, 300_000, 1))
                .addRawInputContents(rawFloats(new float[300_000])).build())));
        assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive(), "still alive");
    }

    @Test
    void malformedMessagesAreTheClientsMistake() {
        var method = GRPCInferenceServiceGrpc.getModelInferMethod().toBuilder(GrpcEndpoint.BYTES, GrpcEndpoint.BYTES).build();
        Random random = new Random(7);
        for (int i = 0; i < 50; i++) {
            byte[] garbage = new byte[1 + random.nextInt(200)];
            random.nextBytes(garbage);
            garbage[0] = (byte) 0xff; // an invalid tag: never a valid message
            Status.Code got = assertThrows(StatusRuntimeException.class, () -> io.grpc.stub.ClientCalls.blockingUnaryCall(
                    channel, method, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), garbage))
                    .getStatus().getCode();
            // Without the key the interceptor answers first; with it, the parse does.
            assertTrue(got == Status.Code.UNAUTHENTICATED, got.toString());
        }
        var keyed = io.grpc.ClientInterceptors.intercept(channel, MetadataUtils.newAttachHeadersInterceptor(authorization()));
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> io.grpc.stub.ClientCalls.blockingUnaryCall(
                keyed, method, io.grpc.CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), new byte[] {(byte) 0xff, 1, 2}));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
        assertTrue(e.getStatus().getDescription().contains("malformed ModelInfer message"), e.getStatus().getDescription());
        assertTrue(stub.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
    }

    @Test
    void theApiKeyGuardsAllButHealthAndLiveness() {
        var bare = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertTrue(bare.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
        assertTrue(bare.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
        assertEquals(Status.Code.UNAUTHENTICATED, code(() -> bare.modelMetadata(ModelMetadataRequest.newBuilder().setName("dax").build())));
        assertEquals(Status.Code.UNAUTHENTICATED, code(() -> bare.modelInfer(ModelInferRequest.newBuilder().setModelName("dax").build())));
        HealthCheckResponse health = HealthGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.newBuilder().setService("").build());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
        assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                .check(HealthCheckRequest.newBuilder().setService("inference.GRPCInferenceService").build()).getStatus());
    }

    @Test
    void concurrentInferCallsShareModelRunsAndGetTheirOwnAnswers() throws Exception {
        var async = GRPCInferenceServiceGrpc.newFutureStub(channel).withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(authorization()));
        int calls = 48;
        List<float[]> windows = new ArrayList<>();
        List<com.google.common.util.concurrent.ListenableFuture<ModelInferResponse>> answers = new ArrayList<>();
        for (int c = 0; c < calls; c++) {
            float[] w = window(30);
            for (int i = 0; i < w.length; i++) {
                w[i] += 37f * c;
            }
            windows.add(w);
            answers.add(async.withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(ModelInferRequest.newBuilder()
                    .setModelName("patient").setId("c" + c).addInputs(input("input", "FP32", 1, 30, 1))
                    .addRawInputContents(rawFloats(w)).build()));
        }
        try (OnnxForecaster direct = OnnxForecaster.open(Path.of("src/test/resources/fixtures/dax_lstm.onnx"))) {
            for (int c = 0; c < calls; c++) {
                ModelInferResponse r = answers.get(c).get(30, TimeUnit.SECONDS);
                assertEquals("c" + c, r.getId());
                float[] got = floats(r.getRawOutputContents(0));
                float[] want = direct.run(new float[][][] {column(windows.get(c))})[0];
                for (int h = 0; h < want.length; h++) {
                    assertEquals(want[h], got[h], 1e-4f * Math.abs(want[h]), "call " + c + " step " + h);
                }
            }
        }
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(rest + "/metrics")).header("Authorization", "Bearer k3y").build(),
                HttpResponse.BodyHandlers.ofString()).body();
        double runs = ServeFixtures.metric(metrics, "lstmcast_batch_size_count", "patient");
        double rows = ServeFixtures.metric(metrics, "lstmcast_batch_size_sum", "patient");
        assertEquals(calls, rows, "every call's window ran once, through the batcher");
        assertTrue(runs < calls / 4.0, calls + " calls in " + runs + " model runs");
    }

    private static float[][] column(float[] w) {
        float[][] out = new float[w.length][1];
        for (int i = 0; i < w.length; i++) {
            out[i][0] = w[i];
        }
        return out;
    }

    @Test
    void reflectionListsTheServices() throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        var reflection = io.grpc.reflection.v1.ServerReflectionGrpc.newStub(channel).withInterceptors(
                MetadataUtils.newAttachHeadersInterceptor(authorization()));
        var requests = reflection.serverReflectionInfo(new io.grpc.stub.StreamObserver<>() {
            @Override
            public void onNext(io.grpc.reflection.v1.ServerReflectionResponse r) {
                names.complete(r.getListServicesResponse().getServiceList().stream()
                        .map(io.grpc.reflection.v1.ServiceResponse::getName).toList());
            }

            @Override
            public void onError(Throwable t) {
                names.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        requests.onNext(io.grpc.reflection.v1.ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> services = names.get(10, TimeUnit.SECONDS);
        requests.onCompleted();
        assertTrue(services.contains("inference.GRPCInferenceService"), services.toString());
        assertTrue(services.contains("grpc.health.v1.Health"), services.toString());
    }

    private static Metadata authorization() {
        Metadata key = new Metadata();
        key.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer k3y");
        return key;
    }

    @Test
    void gRpcRequestsAreCountedPerModel() throws Exception {
        float[] w = window(30);
        stub.modelInfer(ModelInferRequest.newBuilder().setModelName("dax").addInputs(input("input", "FP32", 1, 30, 1))
                .addRawInputContents(rawFloats(w)).build());
        var http = HttpClient.newHttpClient();
        String metrics = http.send(HttpRequest.newBuilder(URI.create(rest + "/metrics"))
                .header("Authorization", "Bearer k3y").build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("lstmcast_requests_total{") && l.contains("endpoint=\"grpc_infer\"")
                && l.contains("model=\"dax\"") && l.contains("outcome=\"success\"")), "gRPC calls are in /metrics");
    }
}
