package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.bench.Benchmarks;
import org.lstmcast.bench.BinaryRest;
import org.lstmcast.bench.GrpcLoad;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.server.InferenceServer;

/** {@code lstmcast bench} against the real server: failures are reported as failures, in its output and exit code. */
class BenchCommandTest {
    @TempDir
    static Path repo;
    static InferenceServer server;
    static String base;
    static int grpcPort;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(repo.resolve("co2/1"));
        Files.copy(Path.of("models/co2/1/model.onnx"), repo.resolve("co2/1/model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        server = new InferenceServer(new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 1024, 2, 0.5,
                ServeConfig.Limits.defaults(), null).withGrpc(new ServeConfig.Grpc(0, 16 << 20)));
        base = "http://127.0.0.1:" + server.start();
        grpcPort = server.grpcPort();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static MainTest.Run bench(String url, String model) {
        return MainTest.run("bench", "--url", url, "--model", model, "--concurrency", "2", "--duration", "0.5",
                "--warmup", "0", "--json");
    }

    @Test
    void aWorkingServerExitsZeroWithoutWarnings() throws Exception {
        MainTest.Run r = bench(base, "co2");
        assertEquals(0, r.code(), r.err());
        assertNoWarnings(r.err());
        JsonNode row = new ObjectMapper().readTree(r.out()).get(0);
        assertTrue(row.path("requests").asLong() > 0, r.out());
        assertEquals(0, row.path("non_2xx").asLong());
        assertEquals(row.path("requests_per_s").asDouble(), row.path("forecasts_per_s").asDouble(), 1e-9);
    }

    /** Progress lines only: no warning, no error. */
    static void assertNoWarnings(String err) {
        for (String line : err.lines().toList()) {
            assertTrue(line.matches("lstmcast bench: concurrency \\d+: .*answers so far"), err);
        }
    }

    @Test
    void aWrongModelNameStopsAtOnceWithTheStatusAndTheServersReason() throws Exception {
        long start = System.nanoTime();
        MainTest.Run r = MainTest.run("bench", "--url", base, "--model", "no-such-model", "--concurrency", "2,4",
                "--duration", "30", "--warmup", "3", "--json");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, r.code(), r.err());
        assertTrue(seconds < 15, "a sweep of 66 s stopped after " + seconds + " s");
        assertEquals("", r.out());
        String reason = serverReason(base + "/v1/models/no-such-model/forecast");
        assertEquals("lstmcast bench: error: the server answered the first request with HTTP 404: " + reason
                + "; every request would be refused alike, so nothing was measured\n", r.err());
        assertTrue(reason.contains("no-such-model"), reason);
    }

    /** The server's own error text for a forecast request, fetched here with another client. */
    static String serverReason(String url) throws Exception {
        var answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(
                        Benchmarks.body(1, 30))).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, answer.statusCode(), answer.body());
        return new ObjectMapper().readTree(answer.body()).path("error").asText();
    }

    @Test
    void aLongRunSaysHowItGoesEverySecond() throws Exception {
        MainTest.Run r = MainTest.run("bench", "--url", base, "--model", "co2", "--concurrency", "1", "--duration", "2.5",
                "--warmup", "1", "--json");
        assertEquals(0, r.code(), r.err());
        List<String> lines = r.err().lines().toList();
        // 3.5 s in all: a line at 1, 2 and 3 s (the first at the end of the warm-up).
        assertTrue(lines.size() >= 3, r.err());
        Matcher first = Pattern.compile("lstmcast bench: concurrency 1: (warming up, 1 of 1 s|0 of 2.5 s), (\\d+) answers so far")
                .matcher(lines.get(0));
        assertTrue(first.matches(), r.err());
        Matcher last = Pattern.compile("lstmcast bench: concurrency 1: (\\d) of 2.5 s, (\\d+) answers so far")
                .matcher(lines.get(lines.size() - 1));
        assertTrue(last.matches(), r.err());
        assertTrue(Long.parseLong(last.group(2)) > Long.parseLong(first.group(2)), r.err());
        long measured = new ObjectMapper().readTree(r.out()).get(0).path("requests").asLong();
        assertTrue(Long.parseLong(last.group(2)) <= measured + Long.parseLong(first.group(2)) + 1000, r.err());
    }

    @Test
    void nothingListeningIsAFailureWithTheSocketErrorAndExitOne() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        MainTest.Run r = bench("http://127.0.0.1:" + closed, "co2");
        assertEquals(1, r.code(), r.err());
        assertTrue(Pattern.compile("(?m)^lstmcast bench: warning: concurrency 2: \\d+ socket errors? ConnectException "
                + "\\(first: Connection refused\\)$").matcher(r.err()).find(), r.err());
    }

    static MainTest.Run benchGrpc(String url, int port, String model, String... more) {
        List<String> args = new ArrayList<>(List.of("bench", "--protocol", "grpc", "--url", url,
                "--grpc-port", Integer.toString(port), "--model", model, "--concurrency", "2", "--duration", "0.5",
                "--warmup", "0", "--json"));
        args.addAll(List.of(more));
        return MainTest.run(args.toArray(new String[0]));
    }

    @Test
    void grpcAgainstAWorkingServerExitsZeroAndItsWindowsReachTheModel() throws Exception {
        MainTest.Run r = benchGrpc(base, grpcPort, "co2", "--windows", "3");
        assertEquals(0, r.code(), r.err());
        assertNoWarnings(r.err());
        JsonNode row = new ObjectMapper().readTree(r.out()).get(0);
        assertEquals("grpc", row.path("protocol").asText(), r.out());
        assertTrue(row.path("requests").asLong() > 0, r.out());
        assertEquals(0, row.path("non_2xx").asLong());
        assertEquals(0, row.path("socket_errors").asLong());
        // both figures are rounded to 3 decimals
        assertEquals(3 * row.path("requests_per_s").asDouble(), row.path("forecasts_per_s").asDouble(), 0.01);
        // The server counted them as successful gRPC inferences of the model: the load went where it says.
        assertTrue(grpcSuccesses("co2") >= row.path("requests").asLong(), r.out());
    }

    static double grpcSuccesses(String model) throws Exception {
        return successes("grpc_infer", model);
    }

    @Test
    void binaryRestAgainstAWorkingServerExitsZeroAndTheServerCountedItsInferences() throws Exception {
        double before = successes("infer", "co2");
        MainTest.Run r = MainTest.run("bench", "--protocol", "binary", "--url", base, "--model", "co2", "--concurrency", "2",
                "--windows", "3", "--duration", "0.5", "--warmup", "0", "--json");
        assertEquals(0, r.code(), r.err());
        assertNoWarnings(r.err());
        JsonNode row = new ObjectMapper().readTree(r.out()).get(0);
        assertEquals("binary", row.path("protocol").asText(), r.out());
        assertTrue(row.path("requests").asLong() > 0, r.out());
        assertEquals(0, row.path("non_2xx").asLong());
        assertEquals(3 * row.path("requests_per_s").asDouble(), row.path("forecasts_per_s").asDouble(), 0.01);
        // They reached the inference protocol's route, not the forecast route.
        assertTrue(successes("infer", "co2") - before >= row.path("requests").asLong(), r.out());
    }

    @Test
    void theBinaryRequestCarriesTheSameWindowsAsTheRestBodyAndIsAnsweredInBinary() throws Exception {
        var body = BinaryRest.body(BinaryRest.inputName(URI.create(base), "co2"), 2, 30);
        assertEquals(2 * 30 * 4, body.tensor().length);
        var http = HttpClient.newHttpClient();
        HttpResponse<byte[]> answer = http.send(HttpRequest.newBuilder(
                        URI.create(base + "/v2/models/co2/infer"))
                .header("Inference-Header-Content-Length", Integer.toString(body.header().length))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, answer.statusCode(), new String(answer.body()));
        int jsonLength = Integer.parseInt(answer.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
        JsonNode out = new ObjectMapper().readTree(Arrays.copyOf(answer.body(), jsonLength)).path("outputs").get(0);
        assertEquals(2 * 5 * 4, out.path("parameters").path("binary_data_size").asInt(), out.toString());
        FloatBuffer got = ByteBuffer.wrap(answer.body(), jsonLength, 40)
                .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        HttpResponse<String> rest = http.send(
                HttpRequest.newBuilder(URI.create(base + "/v1/models/co2/forecast"))
                        .POST(HttpRequest.BodyPublishers.ofString(Benchmarks.body(2, 30)))
                        .build(), HttpResponse.BodyHandlers.ofString());
        JsonNode forecasts = new ObjectMapper().readTree(rest.body()).path("forecasts");
        for (int w = 0; w < 2; w++) {
            for (int h = 0; h < 5; h++) {
                double want = forecasts.get(w).get(h).asDouble();
                assertEquals(want, got.get(w * 5 + h), Math.abs(want) * 1e-6, "window " + w + " step " + h);
            }
        }
    }

    /** lstmcast_requests_total{endpoint=E, outcome="success"} of a model, from /metrics. */
    static double successes(String endpoint, String model) throws Exception {
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        return metrics.lines().filter(l -> l.startsWith("lstmcast_requests_total{") && l.contains("endpoint=\"" + endpoint + "\"")
                        && l.contains("model=\"" + model + "\"") && l.contains("outcome=\"success\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void theGrpcRequestCarriesTheSameWindowsAsTheRestBody() throws Exception {
        var request = GrpcLoad.request("co2", "input", 2, 30);
        assertEquals(2 * 30 * 4, request.getRawInputContents(0).size());
        io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                .forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            var answer = GRPCInferenceServiceGrpc.newBlockingStub(channel).modelInfer(request);
            FloatBuffer grpc = answer.getRawOutputContents(0).asReadOnlyByteBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            HttpResponse<String> rest = HttpClient.newHttpClient().send(
                    HttpRequest.newBuilder(URI.create(base + "/v1/models/co2/forecast"))
                            .POST(HttpRequest.BodyPublishers.ofString(
                                    Benchmarks.body(2, 30))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, rest.statusCode(), rest.body());
            JsonNode forecasts = new ObjectMapper().readTree(rest.body()).path("forecasts");
            assertEquals(2 * 5, grpc.remaining());
            for (int w = 0; w < 2; w++) {
                for (int h = 0; h < 5; h++) {
                    double want = forecasts.get(w).get(h).asDouble();
                    assertEquals(want, grpc.get(w * 5 + h), Math.abs(want) * 1e-6, "window " + w + " step " + h);
                }
            }
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void grpcWithAWrongModelNameStopsAtOnceWithTheStatusAndTheServersReason() throws Exception {
        MainTest.Run r = benchGrpc(base, grpcPort, "no-such-model");
        assertEquals(1, r.code(), r.err());
        assertEquals("", r.out());
        assertTrue(r.err().startsWith("lstmcast bench: error: the server answered the first request with gRPC NOT_FOUND: "),
                r.err());
        assertTrue(r.err().contains("no-such-model"), "the server's reason is shown: " + r.err());
        assertEquals(1, r.err().lines().count(), r.err());
    }

    @Test
    void grpcWithNothingListeningIsAFailureWithTheConnectionErrorAndExitOne() throws Exception {
        int closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        MainTest.Run r = benchGrpc(base, closed, "co2");
        assertEquals(1, r.code(), r.err());
        JsonNode row = new ObjectMapper().readTree(r.out()).get(0);
        assertEquals(0, row.path("requests").asLong(), r.out());
        assertTrue(row.path("socket_errors").asLong() > 0, r.out());
        assertTrue(row.path("socket_errors").asLong() < 200, "the clients back off: " + r.out());
        assertTrue(Pattern.compile("(?m)^lstmcast bench: warning: concurrency 2: \\d+ socket errors? ConnectException "
                + "\\(first: .*[Cc]onnection refused.*\\)$").matcher(r.err()).find(), r.err());
    }
}
