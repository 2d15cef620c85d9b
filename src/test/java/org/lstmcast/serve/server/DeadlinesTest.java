package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.InferTensorContents;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;
import org.lstmcast.grpc.proto.ServerLiveRequest;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/**
 * Clients that give up, against the real server: a gRPC call past its deadline or cancelled, and a REST request past
 * the timeout its client sent, leave the model's queue without running and are counted; a model run that no one waits
 * for any more is stopped natively and the model goes on serving (a run past the limit for one run: {@code BatcherTest}).
 */
class DeadlinesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Longer than any test waits: a request held by this model's batcher is still waiting when the client gives up. */
    private static final long PATIENCE_US = 60_000_000;
    /** Steps of a window that keep the slow model busy for many seconds; a run on 8 steps takes well under one. */
    private static final int LONG = 1500;

    @TempDir
    static Path repo;
    static InferenceServer server;
    static int restPort;
    static ManagedChannel channel;
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceStub async;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        // A model whose batcher waits a minute for company: a request sent alone is held until its client gives up.
        ServeFixtures.copy(Path.of("src/test/resources/fixtures/dax_lstm.onnx"), repo.resolve("patient/1/model.onnx"));
        Files.writeString(repo.resolve("patient/config.json"), "{\"max_queue_delay_us\": " + PATIENCE_US + "}");
        Files.createDirectories(repo.resolve("slow/1"));
        Files.write(repo.resolve("slow/1/model.onnx"), ServeFixtures.slowModel(150));
        // The same graph with two outputs, neither named forecast: served by the inference protocol only, unbatched.
        Files.createDirectories(repo.resolve("plain/1"));
        Files.write(repo.resolve("plain/1/model.onnx"), ServeFixtures.slowModel(150, "a", "b"));
        // One worker per model, so that a run of the slow model that were not stopped would hold up the next request.
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 64, 1, 0.2,
                new ServeConfig.Limits(16L << 20, 4096, 100_000, 10_000, 256, 20_000), null)
                .withGrpc(new ServeConfig.Grpc(0, 4 << 20)).withPreload(List.of("*"));
        server = new InferenceServer(config);
        restPort = server.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel);
        async = GRPCInferenceServiceGrpc.newStub(channel);
        // A first call opens the connection and loads the server's classes: a short deadline must not be spent on that.
        stub.withDeadlineAfter(30, TimeUnit.SECONDS).serverLive(ServerLiveRequest.getDefaultInstance());
        assertEquals(Status.Code.NOT_FOUND, assertThrows(StatusRuntimeException.class, () -> stub
                .withDeadlineAfter(30, TimeUnit.SECONDS).modelInfer(request("absent", 30))).getStatus().getCode());
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    private static ModelInferRequest request(String model, int steps) {
        InferTensorContents.Builder values = InferTensorContents.newBuilder();
        for (int i = 0; i < steps; i++) {
            values.addFp32Contents(5000f + 7.5f * i - (i % 3) * 20f);
        }
        return ModelInferRequest.newBuilder().setModelName(model)
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("input").setDatatype("FP32")
                        .addShape(1).addShape(steps).addShape(1).setContents(values))
                .build();
    }

    /** The model's entry in the model list, the server's statistics. */
    private static JsonNode entry(String model) throws Exception {
        String body = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/v1/models")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        for (JsonNode m : JSON.readTree(body).get("models")) {
            if (m.get("name").asText().equals(model)) {
                return m;
            }
        }
        throw new AssertionError("no model " + model + " in " + body);
    }

    private static long withdrawn(String model, String reason) throws Exception {
        return entry(model).get("requests_withdrawn").get(reason).asLong();
    }

    private static long terminated(String model) throws Exception {
        return entry(model).get("runs_terminated").asLong();
    }

    /** A series of {@code /metrics} for the model, 0 when it has none yet. */
    private static double metric(String name, String model, String tag) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return text.lines().filter(l -> l.startsWith(name + "{") && l.contains("model=\"" + model + "\"")
                        && (tag == null || l.contains(tag)))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    private static void await(BooleanSupplier condition, long millis, String what) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError(what);
            }
            Thread.sleep(20);
        }
    }

    private interface Check {
        boolean test() throws Exception;
    }

    private static BooleanSupplier quietly(Check check) {
        return () -> {
            try {
                return check.test();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
    }

    @Test
    void aGrpcCallPastItsDeadlineLeavesTheQueueWithoutRunning() throws Exception {
        double runs = metric("lstmcast_batch_size_count", "patient", null);
        long expired = withdrawn("patient", "expired");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(400, TimeUnit.MILLISECONDS).modelInfer(request("patient", 30)));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        // The client's deadline travels with the call; the server gives the request up at it, a minute early.
        await(quietly(() -> withdrawn("patient", "expired") == expired + 1), 3_000,
                "the expired call is counted as withdrawn");
        assertEquals(expired + 1, metric("lstmcast_requests_withdrawn_total", "patient", "reason=\"expired\""),
                "and /metrics shows it");
        Thread.sleep(200);
        assertEquals(runs, metric("lstmcast_batch_size_count", "patient", null), "the model never ran it");
    }

    @Test
    void aCancelledGrpcCallLeavesTheQueueWithoutRunning() throws Exception {
        double runs = metric("lstmcast_batch_size_count", "patient", null);
        long cancelled = withdrawn("patient", "cancelled");
        CompletableFuture<Status> status = new CompletableFuture<>();
        Context.CancellableContext call = Context.current().withCancellation();
        call.run(() -> async.modelInfer(request("patient", 30), new StreamObserver<>() {
            @Override
            public void onNext(ModelInferResponse value) {
                status.complete(Status.OK);
            }

            @Override
            public void onError(Throwable t) {
                status.complete(Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
            }
        }));
        // Long enough for the call to reach the batcher, far shorter than the minute it would wait there.
        Thread.sleep(500);
        call.cancel(null);
        assertEquals(Status.Code.CANCELLED, status.get(5, TimeUnit.SECONDS).getCode());
        await(quietly(() -> withdrawn("patient", "cancelled") == cancelled + 1), 3_000,
                "the cancelled call is counted as withdrawn");
        assertEquals(runs, metric("lstmcast_batch_size_count", "patient", null), "the model never ran it");
    }

    private static HttpResponse<String> forecast(String model, String timeout) throws Exception {
        StringBuilder window = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            window.append(i == 0 ? "" : ", ").append(5000 + i);
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + restPort + "/v1/models/" + model
                + "/forecast")).POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [[" + window + "]]}"));
        if (timeout != null) {
            b.header("Request-Timeout", timeout);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aRestRequestPastItsRequestTimeoutHeaderLeavesTheQueueWithoutRunning() throws Exception {
        double runs = metric("lstmcast_batch_size_count", "patient", null);
        long expired = withdrawn("patient", "expired");
        long start = System.nanoTime();
        HttpResponse<String> r = forecast("patient", "300");
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertEquals(504, r.statusCode(), r.body());
        assertEquals("no answer within 300 ms (Request-Timeout)", JSON.readTree(r.body()).get("error").asText());
        assertTrue(tookMs < 5_000, "answered at the client's timeout, not the server's 20 s: " + tookMs + " ms");
        await(quietly(() -> withdrawn("patient", "expired") == expired + 1), 3_000, "counted as withdrawn");
        Thread.sleep(200);
        assertEquals(runs, metric("lstmcast_batch_size_count", "patient", null), "the model never ran it");
    }

    @Test
    void aMalformedRequestTimeoutHeaderIsTheClientsMistake() throws Exception {
        for (String bad : List.of("soon", "0", "-5", "1.5")) {
            HttpResponse<String> r = forecast("patient", bad);
            assertEquals(400, r.statusCode(), bad + ": " + r.body());
            assertTrue(JSON.readTree(r.body()).get("error").asText().startsWith("Request-Timeout must be"), r.body());
        }
    }

    @Test
    void aRunThatEveryoneGaveUpOnIsStoppedAndTheModelServesOn() throws Exception {
        long stopped = terminated("slow");
        long start = System.nanoTime();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(1, TimeUnit.SECONDS).modelInfer(request("slow", LONG)));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        await(quietly(() -> terminated("slow") == stopped + 1), 10_000, "the run no one waits for is stopped");
        assertEquals(stopped + 1, metric("lstmcast_runs_terminated_total", "slow", null), "and /metrics shows it");
        // The model's one worker is free again: a short request is answered, by the same session.
        ModelInferResponse ok = stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request("slow", 8));
        assertEquals(1, ok.getOutputs(0).getContents().getFp32ContentsCount());
        System.out.printf("slow run given up and stopped, next answer after %d ms%n",
                (System.nanoTime() - start) / 1_000_000);
    }

    @Test
    void aRunOutsideTheBatcherIsStoppedWhenItsCallerGivesUp() throws Exception {
        long stopped = terminated("plain");
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(1, TimeUnit.SECONDS).modelInfer(request("plain", LONG)));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        await(quietly(() -> terminated("plain") == stopped + 1), 10_000, "the run no one waits for is stopped");
        ModelInferResponse ok = stub.withDeadlineAfter(10, TimeUnit.SECONDS).modelInfer(request("plain", 8));
        assertEquals(2, ok.getOutputsCount(), "the model serves on");
    }
}
