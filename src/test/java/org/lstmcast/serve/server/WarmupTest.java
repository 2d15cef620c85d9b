package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/**
 * The warm-up as a forecaster loads, on the real server over HTTP: every batch size its batcher forms is run before
 * the version is ready, and {@code --no-warmup} turns it off.
 */
class WarmupTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String WINDOW = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "100")) + "]]}";
    /** With config.json's max_batch_size 24: the powers of two below it, then 24 itself. */
    private static final List<Integer> SIZES = List.of(1, 2, 4, 8, 16, 24);

    @TempDir
    Path repo;
    InferenceServer server;
    String base;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private ServeConfig config(int port) throws IOException {
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));
        Files.writeString(repo.resolve("dax/config.json"), "{\"max_batch_size\": 24}");
        ServeConfig.Limits limits = new ServeConfig.Limits(16L << 20, 4096, 100_000, 10_000, 256, 60_000);
        base = "http://127.0.0.1:" + port;
        return new ServeConfig(repo, "127.0.0.1", port, "cpu", 64, 0, 64, 1, 60, limits, null, false);
    }

    private static HttpResponse<String> get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int status(String url) {
        try {
            return get(url).statusCode();
        } catch (Exception e) {
            // Not listening yet: not ready either.
            return -1;
        }
    }

    /** The {@code warmup} of dax version 1 in {@code /v1/models}; a JSON null when none ran. */
    private JsonNode warmup() throws Exception {
        JsonNode dax = ServeFixtures.find(JSON.readTree(get(base + "/v1/models").body()), "dax", "1");
        assertNotNull(dax);
        assertTrue(dax.has("warmup"), dax.toString());
        return dax.get("warmup");
    }

    private static List<Integer> sizes(JsonNode warmup) {
        List<Integer> out = new ArrayList<>();
        warmup.path("batch_sizes").forEach(n -> out.add(n.asInt()));
        return out;
    }

    private double metric(String name) throws Exception {
        return ServeFixtures.metric(get(base + "/metrics").body(), name, "dax");
    }

    /** Watches {@code url} until it answers 200 or {@code done} has ended, and checks the warm-up at every 200. */
    private List<Boolean> watchReady(String url, CompletableFuture<?> done) throws Exception {
        List<Boolean> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            boolean finished = done.isDone();
            boolean ready = status(url) == 200;
            seen.add(ready);
            if (ready) {
                assertEquals(SIZES, sizes(warmup()), "ready before its warm-up ended");
            }
            if (ready || finished) {
                break;
            }
            Thread.sleep(2);
        }
        return seen;
    }

    private static void assertFalseThenTrue(List<Boolean> seen) {
        assertFalse(seen.get(0), seen.toString());
        assertTrue(seen.get(seen.size() - 1), seen.toString());
        assertEquals(1, seen.stream().filter(b -> b).count(), seen.toString());
    }

    @Test
    void anExplicitLoadWarmsEveryBatchSizeBeforeTheModelIsReady() throws Exception {
        server = new InferenceServer(config(0).withModelControl(ServeConfig.ModelControl.EXPLICIT, List.of()));
        base = "http://127.0.0.1:" + server.start();
        String ready = base + "/v2/models/dax/ready";
        assertEquals(400, status(ready), "not loaded yet");
        CompletableFuture<HttpResponse<String>> load = CompletableFuture.supplyAsync(() -> {
            try {
                return HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v2/repository/models/dax/load"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        List<Boolean> seen = new ArrayList<>(List.of(false));
        seen.addAll(watchReady(ready, load));
        assertEquals(200, load.get(60, TimeUnit.SECONDS).statusCode());
        if (!seen.get(seen.size() - 1)) {
            seen.add(status(ready) == 200);
        }
        assertFalseThenTrue(seen);

        JsonNode warmup = warmup();
        assertEquals(SIZES, sizes(warmup));
        assertTrue(warmup.path("ms").isIntegralNumber(), warmup.toString());
        assertEquals(SIZES.size(), metric("lstmcast_warmup_runs_total"));
        // The warm-up runs beside the batcher: the request figures start at nothing.
        assertEquals(0, metric("lstmcast_batch_size_count"));
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/dax/forecast"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(WINDOW)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(1, metric("lstmcast_batch_size_count"));
    }

    @Test
    void theServerIsNotReadyUntilTheWarmUpAtStartHasEnded() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        server = new InferenceServer(config(port));
        // Not listening before it starts; from then on, every 200 must find the warm-up ended (checked as it watches).
        // A tiny model may warm up before the first poll lands, so the "not ready" is observed here, not left to chance.
        assertEquals(-1, status(base + "/v2/health/ready"), "answering before it started");
        List<Boolean> seen = new ArrayList<>(List.of(false));
        InferenceServer starting = server;
        CompletableFuture<Integer> start = CompletableFuture.supplyAsync(starting::start);
        seen.addAll(watchReady(base + "/v2/health/ready", start));
        assertEquals(port, start.get(60, TimeUnit.SECONDS));
        if (!seen.get(seen.size() - 1)) {
            seen.add(status(base + "/v2/health/ready") == 200);
        }
        assertFalseThenTrue(seen);
        assertEquals(SIZES.size(), metric("lstmcast_warmup_runs_total"));
    }

    @Test
    void noWarmupServesWithoutOne() throws Exception {
        server = new InferenceServer(config(0).withWarmup(false));
        base = "http://127.0.0.1:" + server.start();
        assertEquals(200, status(base + "/v2/models/dax/ready"));
        assertTrue(warmup().isNull(), warmup().toString());
        assertEquals(0, metric("lstmcast_warmup_runs_total"));
        assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/dax/forecast"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(WINDOW)).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    /**
     * {@code serve --warm-up-traffic}: the server answers its own forecast requests over loopback while it reports not
     * ready (REST and gRPC), and ready only once they are done; without the flag, no request is sent.
     */
    @Test
    void requestPathWarmupAnswersItsOwnRequestsBeforeTheServerIsReady() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        ServeConfig plain = config(port);
        // With gRPC on a free port, so its half of the warm-up runs too.
        server = new InferenceServer(new ServeConfig(plain.models(), plain.host(), port, plain.device(),
                plain.maxBatchSize(), plain.maxQueueDelayUs(), plain.maxQueue(), plain.threads(), plain.pollSeconds(),
                plain.limits(), null, false, new ServeConfig.Grpc(0, 16L << 20), ServeConfig.ModelControl.POLL, List.of()));
        InferenceServer starting = server;
        // Four seconds at most (the quiet compiler's ending is checked on its own below, with a compiler's clock given).
        CompletableFuture<Integer> start = CompletableFuture.supplyAsync(() -> starting.start(Duration.ofSeconds(4), true));
        // Every sample taken while the start is under way: (ready, forecasts served so far).
        List<double[]> samples = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!start.isDone() && System.nanoTime() < deadline) {
            int ready = status(base + "/v2/health/ready");
            if (ready != -1) {
                samples.add(new double[] {ready == 200 ? 1 : 0, metric("lstmcast_batch_size_count")});
            }
            Thread.sleep(50);
        }
        assertEquals(port, start.get(60, TimeUnit.SECONDS));
        RequestPathWarmup.Outcome outcome = server.warmupOutcome();
        assertTrue(outcome.millis() >= 3_000 && outcome.millis() < 15_000, "four seconds at most, three at least: " + outcome);
        String metrics = get(base + "/metrics").body();
        assertEquals(outcome.answered(), successes(metrics, "forecast"),
                "the warm-up's count of 200s is the server's count of forecast successes: " + outcome);
        assertTrue(outcome.grpcAnswered() > 0, "gRPC inferences answered: " + outcome);
        assertEquals(outcome.grpcAnswered(), successes(metrics, "grpc_infer"),
                "the warm-up's count of gRPC OKs is the server's: " + outcome);
        double served = metric("lstmcast_batch_size_count");
        assertTrue(served > 50, "forecast batches run by the warm-up traffic: " + served);
        // Ready only once every request had been answered: a sample that saw it ready saw the final count (the status
        // is read first, so a count below the final one means requests were still to come).
        assertTrue(samples.stream().anyMatch(x -> x[0] == 0 && x[1] > 0), "not ready while the traffic ran");
        for (double[] x : samples) {
            assertTrue(x[0] == 0 || x[1] == served, "ready at " + x[1] + " batches of " + served);
        }
        assertEquals(200, status(base + "/v2/health/ready"));
        assertEquals(served, metric("lstmcast_batch_size_count"), "nothing sent once ready");

        server.close();
        server = new InferenceServer(config(port));
        server.start(Duration.ZERO);
        assertEquals(200, status(base + "/v2/health/ready"));
        assertEquals(0, metric("lstmcast_batch_size_count"), "no traffic without the flag");
    }

    /** The server's count of successful requests of one endpoint, from its Prometheus text. */
    private static double successes(String metrics, String endpoint) {
        Matcher m = Pattern.compile("^lstmcast_requests_total\\{([^}]*)\\} ([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(metrics);
        double sum = 0;
        while (m.find()) {
            if (m.group(1).contains("endpoint=\"" + endpoint + "\"") && m.group(1).contains("outcome=\"success\"")) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }

    /** The warm-up's own HTTP/1.1 reading: a sized body, a chunked one with a trailer, then a closing answer. */
    @Test
    void warmupReadsSizedChunkedAndClosingResponses() throws Exception {
        String stream = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{\"a\"}"
                + "HTTP/1.1 404 Not Found\r\ntransfer-encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\n"
                + "X-Trailer: 1\r\n\r\n"
                + "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
                + "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\nshort";
        InputStream in = new ByteArrayInputStream(stream.getBytes(StandardCharsets.US_ASCII));
        assertEquals(200, RequestPathWarmup.readResponse(in));
        assertEquals(404, RequestPathWarmup.readResponse(in));
        assertEquals(-1, RequestPathWarmup.readResponse(in), "Connection: close ends the connection");
        assertThrows(IOException.class, () -> RequestPathWarmup.readResponse(in), "a body cut short");
        assertEquals("::1", RequestPathWarmup.loopbackHost("::"));
        assertEquals("127.0.0.1", RequestPathWarmup.loopbackHost("0.0.0.0"));
        assertEquals("fe80::1", RequestPathWarmup.loopbackHost("[fe80::1]"));
    }

    /**
     * The warm-up's end: once the compiler's time grew by under 150 ms over two seconds, never before three seconds;
     * a compiler that keeps working runs it to its limit.
     */
    @Test
    void theWarmupEndsOnceTheCompilerIsQuietOrAtItsLimit() {
        long start = System.nanoTime();
        // Busy for the first second (400 ms of compiling per 250 ms sample, two threads), then a trickle.
        long[] calls = {0};
        boolean quiet = RequestPathWarmup.waitForQuietCompiler(start, start + TimeUnit.SECONDS.toNanos(20), () -> true,
                () -> {
                    calls[0]++;
                    long busy = Math.min(calls[0], 4);
                    return busy * 400 + (calls[0] - busy) * 10;
                });
        long tookMs = (System.nanoTime() - start) / 1_000_000;
        assertTrue(quiet, "ended by the quiet compiler");
        // Quiet from the fifth sample on: the two-second window is clear of the busy second after about three seconds.
        assertTrue(tookMs >= 2_900 && tookMs < 6_000, "after " + tookMs + " ms");

        long start2 = System.nanoTime();
        boolean busy = RequestPathWarmup.waitForQuietCompiler(start2, start2 + TimeUnit.MILLISECONDS.toNanos(3_500),
                () -> true, () -> (System.nanoTime() - start2) / 10_000_000); // 100 ms of compiling a second, steadily
        long took2 = (System.nanoTime() - start2) / 1_000_000;
        // 200 ms per two seconds is not quiet: it runs to the limit.
        assertFalse(busy, "a compiler at 100 ms a second is not quiet");
        assertTrue(took2 >= 3_400 && took2 < 5_000, "ran to its limit: " + took2 + " ms");

        long start3 = System.nanoTime();
        assertFalse(RequestPathWarmup.waitForQuietCompiler(start3, start3 + TimeUnit.SECONDS.toNanos(1), () -> true, null),
                "without the compiler's time it runs to the limit");
        assertTrue((System.nanoTime() - start3) / 1_000_000 >= 950);
    }
}
