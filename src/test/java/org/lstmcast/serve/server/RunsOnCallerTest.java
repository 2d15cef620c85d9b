package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/**
 * REST requests on an idle server run the model on the thread that read them (no hand-off to a batcher worker and
 * back), counted in {@code /metrics}; that requests arriving meanwhile still queue and share runs is BatcherTest's.
 */
class RunsOnCallerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

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

    private HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private double metric(String name) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).GET().build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return ServeFixtures.metric(text, name, "dax");
    }

    private static String window(int level) {
        return "[" + String.join(",", Collections.nCopies(30, Integer.toString(level))) + "]";
    }

    @Test
    void aLoneRequestRunsOnTheThreadThatReadIt() throws Exception {
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));
        ServeConfig.Limits limits = new ServeConfig.Limits(16L << 20, 4096, 100_000, 10_000, 256, 60_000);
        server = new InferenceServer(new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 64, 1, 60, limits, null, false));
        base = "http://127.0.0.1:" + server.start();
        assertEquals(0, metric("lstmcast_runs_on_caller_total"));

        // One at a time, with pauses: the batcher is idle at every arrival. The same window gets the same answer. The
        // first runs go to a worker until the batcher has timed a few (its mean run time starts unknown, then at the
        // first, slow run's), so only the last ten are counted.
        JsonNode first = null;
        double before = 0;
        for (int i = 0; i < 30; i++) {
            if (i == 20) {
                before = metric("lstmcast_runs_on_caller_total");
            }
            HttpResponse<String> r = post("/v1/models/dax/forecast", "{\"inputs\": [" + window(100) + "]}");
            assertEquals(200, r.statusCode(), r.body());
            JsonNode forecast = JSON.readTree(r.body()).path("forecasts");
            if (first == null) {
                first = forecast;
            }
            assertEquals(first, forecast);
            Thread.sleep(20);
        }
        HttpResponse<String> infer = post("/v2/models/dax/infer", "{\"inputs\": [{\"name\": \"input\", \"shape\": [1, 30, 1], "
                + "\"datatype\": \"FP32\", \"data\": " + window(100) + "}]}");
        assertEquals(200, infer.statusCode(), infer.body());
        assertEquals(31, metric("lstmcast_batch_size_count"));
        double onCaller = metric("lstmcast_runs_on_caller_total") - before;
        // Every lone request qualifies; a pause in the test's own thread (a collection) may leave one to a worker.
        assertTrue(onCaller >= 9, "runs on the caller's thread, of the last 11: " + onCaller);
    }
}
