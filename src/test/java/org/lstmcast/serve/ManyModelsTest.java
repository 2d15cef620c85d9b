package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelMetadataRequest;
import org.lstmcast.serve.server.InferenceServer;

/** A repository served lazily: models load on their first request, within a bound, without a thread each. */
class ManyModelsTest {
    // One LSTM network without intervals: a model with one output, as the raw answers below assume.
    private static final Path DAX = Path.of("src/test/resources/fixtures/dax_lstm.onnx");

    @TempDir
    Path repo;
    SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    ModelRegistry registry;

    @AfterEach
    void stop() {
        if (registry != null) {
            registry.close();
        }
    }

    private void models(int n) throws Exception {
        for (int i = 0; i < n; i++) {
            Path dir = Files.createDirectories(repo.resolve("m" + i + "/1"));
            Files.createLink(dir.resolve("model.onnx"), DAX.toAbsolutePath());
        }
    }

    private void start(int maxLoaded) {
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 8, 0, 64, 1, 3600,
                ServeConfig.Limits.defaults(), null).withPreload(List.of()).withMaxLoaded(maxLoaded);
        registry = new ModelRegistry(config, metrics);
        registry.start();
    }

    private String state(String name) {
        return registry.statuses().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow().state();
    }

    private double loads(String outcome) {
        return metrics.get("lstmcast_model_loads_total").tag("outcome", outcome).counter().count();
    }

    private static double forecast(ModelVersion v) throws Exception {
        double[][] w = new double[v.spec.lookback()][1];
        for (double[] r : w) {
            r[0] = 5000;
        }
        return v.forecast(List.<double[][]>of(w), 1, 30_000).get(30, TimeUnit.SECONDS)[0][0];
    }

    @Test
    void gRpcCallsLoadAModelOffTheTransportThreadsAndAnswerAsALoadedOneDoes() throws Exception {
        models(3);
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 8, 0, 64, 1, 3600,
                ServeConfig.Limits.defaults(), null).withPreload(List.of()).withMaxLoaded(0)
                .withGrpc(new ServeConfig.Grpc(0, 1 << 20));
        try (InferenceServer server = new InferenceServer(config)) {
            String rest = "http://127.0.0.1:" + server.start();
            var channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort())
                    .usePlaintext().build();
            try {
                var stub = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(60, TimeUnit.SECONDS);
                ByteBuffer raw = ByteBuffer.allocate(4 * 30).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < 30; i++) {
                    raw.putFloat(5000f + 11f * i);
                }
                Function<String, ModelInferRequest> request = name ->
                        ModelInferRequest.newBuilder().setModelName(name)
                                .addInputs(ModelInferRequest.InferInputTensor.newBuilder()
                                        .setName("input").setDatatype("FP32").addShape(1).addShape(30).addShape(1))
                                .addRawInputContents(com.google.protobuf.ByteString.copyFrom(raw.array())).build();
                // Metadata of a model not loaded yet loads it; then eight concurrent calls on another such model
                // wait for one load and all answer what the loaded one does.
                assertEquals("m0", stub.modelMetadata(ModelMetadataRequest.newBuilder()
                        .setName("m0").build()).getName());
                var reference = stub.modelInfer(request.apply("m0")).getRawOutputContents(0);
                ExecutorService callers = Executors.newFixedThreadPool(8);
                try {
                    List<Future<com.google.protobuf.ByteString>> answers = new ArrayList<>();
                    for (int i = 0; i < 8; i++) {
                        answers.add(callers.submit(() -> stub.modelInfer(request.apply("m1")).getRawOutputContents(0)));
                    }
                    for (Future<com.google.protobuf.ByteString> a : answers) {
                        assertEquals(reference, a.get(60, TimeUnit.SECONDS));
                    }
                } finally {
                    callers.shutdownNow();
                }
                assertEquals(5 * 4, reference.size());
                assertEquals(List.of("m0 READY", "m1 READY", "m2 UNAVAILABLE"), registryStates(rest));
            } finally {
                channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void restInferenceCallsLoadAModelOffTheIoThreadsAndAnswerAsALoadedOneDoes() throws Exception {
        models(3);
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 8, 0, 64, 1, 3600,
                ServeConfig.Limits.defaults(), null).withPreload(List.of()).withMaxLoaded(0);
        try (InferenceServer server = new InferenceServer(config)) {
            String rest = "http://127.0.0.1:" + server.start();
            ByteBuffer raw = ByteBuffer.allocate(4 * 30).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < 30; i++) {
                raw.putFloat(5000f + 11f * i);
            }
            String header = "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], \"datatype\": \"FP32\", "
                    + "\"parameters\": {\"binary_data_size\": 120}}], \"parameters\": {\"binary_data_output\": true}}";
            byte[] body = Arrays.copyOf(header.getBytes(StandardCharsets.UTF_8), header.length() + 120);
            System.arraycopy(raw.array(), 0, body, header.length(), 120);
            var http = HttpClient.newHttpClient();
            Function<String, HttpResponse<byte[]>> infer = name -> {
                try {
                    return http.send(HttpRequest.newBuilder(URI.create(rest + "/v2/models/" + name + "/infer"))
                            .header("Inference-Header-Content-Length", Integer.toString(header.length()))
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                            HttpResponse.BodyHandlers.ofByteArray());
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            };
            HttpResponse<byte[]> first = infer.apply("m0");
            assertEquals(200, first.statusCode(), new String(first.body()));
            int jsonLength = Integer.parseInt(first.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
            byte[] reference = Arrays.copyOfRange(first.body(), jsonLength, first.body().length);
            assertEquals(5 * 4, reference.length);
            ExecutorService callers = Executors.newFixedThreadPool(8);
            try {
                List<Future<HttpResponse<byte[]>>> answers = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    answers.add(callers.submit(() -> infer.apply("m1")));
                }
                for (Future<HttpResponse<byte[]>> a : answers) {
                    HttpResponse<byte[]> r = a.get(60, TimeUnit.SECONDS);
                    assertEquals(200, r.statusCode(), new String(r.body()));
                    assertArrayEquals(reference, Arrays.copyOfRange(r.body(), jsonLength, r.body().length));
                }
            } finally {
                callers.shutdownNow();
            }
            HttpResponse<byte[]> unknown = infer.apply("m9");
            assertEquals(404, unknown.statusCode());
            assertTrue(new String(unknown.body()).contains("\"error\""), new String(unknown.body()));
            assertEquals(List.of("m0 READY", "m1 READY", "m2 UNAVAILABLE"), registryStates(rest));
        }
    }

    private static List<String> registryStates(String rest) throws Exception {
        var index = new ObjectMapper().readTree(HttpClient.newHttpClient()
                .send(HttpRequest.newBuilder(URI.create(rest + "/v2/repository/index"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
        List<String> states = new ArrayList<>();
        index.forEach(m -> states.add(m.path("name").asText() + " " + m.path("state").asText()));
        return states.stream().sorted().toList();
    }

    @Test
    void aModelLoadsOnItsFirstRequestOnly() throws Exception {
        models(5);
        start(0);
        assertTrue(registry.ready(false));
        assertEquals(5, registry.statuses().size());
        registry.statuses().forEach(s -> assertEquals("UNLOADED", s.state(), s.toString()));
        assertEquals(0, loads("success"));
        assertTrue(registry.index().stream().allMatch(s -> s.state().equals("UNAVAILABLE") && "not loaded".equals(s.reason())));

        ModelVersion v = registry.acquire("m3", null);
        try {
            assertTrue(Double.isFinite(forecast(v)));
        } finally {
            v.release();
        }
        assertEquals("READY", state("m3"));
        assertEquals("UNLOADED", state("m2"));
        registry.acquire("m3", "1").release();
        assertEquals(1, loads("success"));
        assertEquals(1, metrics.get("lstmcast_models_loaded").gauge().value());
        assertEquals(1, metrics.get("lstmcast_model_load_seconds").timer().count());
        ApiException unknown = assertThrows(ApiException.class, () -> registry.acquire("m9", null));
        assertEquals(404, unknown.status());
    }

    @Test
    void concurrentFirstRequestsShareOneLoad() throws Exception {
        models(2);
        start(0);
        ExecutorService clients = Executors.newFixedThreadPool(16);
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<ModelVersion>> got = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                got.add(clients.submit(() -> {
                    go.await();
                    return registry.acquire("m1", null);
                }));
            }
            go.countDown();
            ModelVersion first = got.get(0).get(60, TimeUnit.SECONDS);
            for (Future<ModelVersion> f : got) {
                ModelVersion v = f.get(60, TimeUnit.SECONDS);
                assertSame(first, v, "every request got the one load");
                v.release();
            }
        } finally {
            clients.shutdownNow();
        }
        assertEquals(1, loads("success"));
    }

    @Test
    void evictsTheLeastRecentlyUsedVersionWithoutARequestInFlight() throws Exception {
        models(4);
        start(2);
        ModelVersion held = registry.acquire("m0", null);
        Thread.sleep(2);
        registry.acquire("m1", null).release();
        Thread.sleep(2);
        // m0 is the least recently used, but a request holds it: m1 goes.
        registry.acquire("m2", null).release();
        assertEquals("READY", state("m0"));
        assertEquals("UNLOADED", state("m1"));
        assertEquals("READY", state("m2"));
        assertEquals(1, metrics.get("lstmcast_model_evictions_total").counter().count());
        assertFalse(held.isClosed());
        assertTrue(Double.isFinite(forecast(held)), "the held version still answers");

        // Evicted versions come back on demand.
        ModelVersion again = registry.acquire("m1", null);
        assertEquals("UNLOADED", state("m2"));
        assertEquals(2, metrics.get("lstmcast_models_loaded").gauge().value());

        // Both loaded versions are in use: no room, and nothing is held against the file.
        ApiException busy = assertThrows(ApiException.class, () -> registry.acquire("m3", null));
        assertEquals(503, busy.status());
        assertTrue(busy.getMessage().contains("in flight"), busy.getMessage());
        assertEquals("UNLOADED", state("m3"));
        again.release();
        held.release();
        registry.acquire("m3", null).release();
        assertEquals("READY", state("m3"));
        assertEquals(5, loads("success"), "m0, m1, m2, m1 again, m3");
    }

    @Test
    void aFailedLoadIsNotRetriedUntilItsFileChanges() throws Exception {
        Path file = Files.createDirectories(repo.resolve("bad/1")).resolve("model.onnx");
        Files.copy(ServeFixtures.fixture("truncated.onnx"), file);
        start(0);
        for (int i = 0; i < 3; i++) {
            ApiException e = assertThrows(ApiException.class, () -> registry.acquire("bad", null));
            assertEquals(503, e.status());
            assertTrue(e.getMessage().contains("not an ONNX model"), e.getMessage());
        }
        assertEquals(1, loads("failure"));
        assertEquals("FAILED", state("bad"));
        registry.scan();
        assertEquals(1, loads("failure"), "an unchanged file is not tried again");

        Files.copy(DAX, file, StandardCopyOption.REPLACE_EXISTING);
        Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis() + 5_000));
        registry.scan();
        assertEquals("READY", state("bad"));
        registry.acquire("bad", null).release();
    }

    @Test
    void threadsDoNotGrowWithTheModelsLoaded() throws Exception {
        models(200);
        start(0);
        registry.acquire("m0", null).release();
        int before = ManagementFactory.getThreadMXBean().getThreadCount();
        for (int i = 0; i < 200; i++) {
            ModelVersion v = registry.acquire("m" + i, null);
            try {
                forecast(v);
            } finally {
                v.release();
            }
        }
        assertEquals(200, metrics.get("lstmcast_models_loaded").gauge().value());
        int after = ManagementFactory.getThreadMXBean().getThreadCount();
        // The shared batcher pool may start its few workers; nothing per model.
        assertTrue(after - before <= Runtime.getRuntime().availableProcessors() + 4,
                "threads went from " + before + " to " + after + " with 200 models loaded");
    }
}
