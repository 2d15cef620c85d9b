package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/**
 * Triton's model repository extension and explicit model control, on the real server over HTTP: index, load and
 * unload, and nothing changing in explicit mode unless asked.
 */
class ModelControlTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final String WINDOW = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "100")) + "]]}";

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

    /**
     * A server on the test's repository. The poll period is short, so that a repository that were polled would
     * show a change within the waits below.
     */
    private void start(ServeConfig.ModelControl mode, List<String> load, String apiKey, boolean strict) {
        ServeConfig.Limits limits = new ServeConfig.Limits(16L << 20, 4096, 100_000, 10_000, 256, 60_000);
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 64, 1, 0.1, limits, apiKey, strict)
                .withModelControl(mode, load);
        server = new InferenceServer(config);
        base = "http://127.0.0.1:" + server.start();
    }

    private void explicit(String... load) {
        start(ServeConfig.ModelControl.EXPLICIT, List.of(load), null, false);
    }

    private void bundled(String... names) throws Exception {
        for (String name : names) {
            ServeFixtures.copy(Path.of("models/" + name + "/1/model.onnx"), repo.resolve(name + "/1/model.onnx"));
        }
    }

    private void truncated(String name, int version) throws Exception {
        Files.createDirectories(repo.resolve(name + "/" + version));
        Files.copy(ServeFixtures.fixture("truncated.onnx"), repo.resolve(name + "/" + version + "/model.onnx"));
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(request(path, body, null), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest request(String path, String body, String key) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return b.build();
    }

    private HttpResponse<String> load(String model) throws Exception {
        return post("/v2/repository/models/" + model + "/load", "");
    }

    private HttpResponse<String> unload(String model) throws Exception {
        return post("/v2/repository/models/" + model + "/unload", "");
    }

    private JsonNode index(String body) throws Exception {
        HttpResponse<String> r = post("/v2/repository/index", body);
        assertEquals(200, r.statusCode(), r.body());
        JsonNode index = JSON.readTree(r.body());
        assertTrue(index.isArray(), r.body());
        return index;
    }

    private static JsonNode entry(JsonNode index, String name, String version) {
        for (JsonNode e : index) {
            if (e.path("name").asText().equals(name) && e.path("version").asText().equals(version)) {
                return e;
            }
        }
        return null;
    }

    private int status(String path) throws Exception {
        return get(path).statusCode();
    }

    @Test
    void explicitModeServesOnlyTheModelsAskedForAndLoadsOthersOnRequest() throws Exception {
        bundled("dax", "co2");
        explicit("dax");
        assertEquals(200, status("/v2/models/dax/ready"));
        assertEquals(200, post("/v1/models/dax/forecast", WINDOW).statusCode());
        assertEquals(400, status("/v2/models/co2/ready"), "co2 was not asked for");
        ServeFixtures.assertError(post("/v1/models/co2/forecast", WINDOW), 404, "unknown model");
        assertEquals(200, status("/v2/health/ready"));

        JsonNode index = index("");
        assertEquals("READY", entry(index, "dax", "1").path("state").asText());
        assertTrue(entry(index, "dax", "1").path("reason").isMissingNode(), index.toString());
        assertEquals("UNAVAILABLE", entry(index, "co2", "1").path("state").asText());
        assertEquals("not loaded", entry(index, "co2", "1").path("reason").asText());
        JsonNode readyOnly = index("{\"ready\": true}");
        assertEquals(1, readyOnly.size(), readyOnly.toString());
        assertNotNull(entry(readyOnly, "dax", "1"));
        assertEquals(2, index("{\"ready\": false}").size());

        JsonNode meta = JSON.readTree(get("/v2").body());
        assertTrue(meta.path("extensions").toString().contains("\"model_repository\""), meta.toString());
        assertFalse(meta.path("extensions").toString().contains("model_repository_watch"), "the repository is not watched");
        assertEquals("explicit", meta.path("model_control_mode").asText());

        // A model copied in is not picked up: only a load does that.
        bundled("co2");
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("late/1/model.onnx"));
        Thread.sleep(1000);
        assertEquals(400, status("/v2/models/late/ready"), "explicit mode does not poll");
        assertEquals("not loaded", entry(index(""), "late", "1").path("reason").asText());

        HttpResponse<String> loaded = load("co2");
        assertEquals(200, loaded.statusCode(), loaded.body());
        assertEquals("{}", loaded.body());
        assertEquals("co2", JSON.readTree(post("/v1/models/co2/forecast", WINDOW).body()).path("model_name").asText());
        assertEquals(200, load("late").statusCode());
        assertEquals(200, status("/v2/models/late/ready"));
        assertEquals("READY", entry(index(""), "co2", "1").path("state").asText());

        // A load of a loaded model picks up what changed on disk: a new version, then its removal.
        ServeFixtures.copy(Path.of("models/co2/1/model.onnx"), repo.resolve("dax/2/model.onnx"));
        Thread.sleep(300);
        assertEquals(400, status("/v2/models/dax/versions/2/ready"));
        assertEquals(200, load("dax").statusCode());
        assertEquals(200, status("/v2/models/dax/versions/2/ready"));
        assertEquals("2", JSON.readTree(post("/v1/models/dax/forecast", WINDOW).body()).path("model_version").asText());
        ServeFixtures.deleteTree(repo.resolve("dax/2"));
        assertEquals(200, status("/v2/models/dax/versions/2/ready"), "still served until asked");
        assertEquals(200, load("dax").statusCode());
        assertEquals(404, status("/v2/models/dax/versions/2"));
        assertEquals("1", JSON.readTree(post("/v1/models/dax/forecast", WINDOW).body()).path("model_version").asText());
    }

    @Test
    void loadModelStarLoadsTheWholeRepositoryOnceAndNoMore() throws Exception {
        bundled("dax", "co2");
        explicit("*");
        assertEquals(200, status("/v2/models/dax/ready"));
        assertEquals(200, status("/v2/models/co2/ready"));
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("late/1/model.onnx"));
        Thread.sleep(1000);
        assertEquals(400, status("/v2/models/late/ready"), "'*' is read at start, not watched");
        assertEquals(2, index("{\"ready\": true}").size());
    }

    @Test
    void unloadRetiresTheModelWhileARequestInFlightIsAnswered() throws Exception {
        bundled("dax", "co2");
        explicit("dax", "co2");
        // Long enough to be in flight when the unload comes: 256 windows rolled 10000 steps, 2000 batched runs each.
        String window = "[" + String.join(",", Collections.nCopies(30, "5000")) + "]";
        String slow = "{\"inputs\": [" + String.join(",", Collections.nCopies(256, window)) + "], \"horizon\": 10000}";
        long start = System.nanoTime();
        CompletableFuture<HttpResponse<String>> inFlight = HTTP.sendAsync(request("/v1/models/dax/forecast", slow, null),
                HttpResponse.BodyHandlers.ofString());
        ServeFixtures.awaitTrue(() -> {
            try {
                return ServeFixtures.metric(get("/metrics").body(), "lstmcast_batch_size_count", "dax") > 0;
            } catch (Exception e) {
                return false;
            }
        }, "the slow forecast runs");

        HttpResponse<String> unloaded = unload("dax");
        assertEquals(200, unloaded.statusCode(), unloaded.body());
        assertEquals("{}", unloaded.body());
        long unloadedAfterMs = (System.nanoTime() - start) / 1_000_000;
        assertFalse(inFlight.isDone(), () -> "the forecast must still be running when the unload answers, after "
                + unloadedAfterMs + " ms; it ended with " + inFlight.join().statusCode() + " " + inFlight.join().body());
        ServeFixtures.assertError(post("/v1/models/dax/forecast", WINDOW), 404, "unknown model");
        assertEquals(404, status("/v2/models/dax"));
        assertEquals(400, status("/v2/models/dax/ready"));

        HttpResponse<String> answered = inFlight.get(120, TimeUnit.SECONDS);
        assertEquals(200, answered.statusCode(), answered.body());
        JsonNode forecasts = JSON.readTree(answered.body()).path("forecasts");
        assertEquals(256, forecasts.size());
        assertEquals(10_000, forecasts.get(255).size());

        JsonNode index = index("");
        assertEquals("UNAVAILABLE", entry(index, "dax", "1").path("state").asText());
        assertEquals("not loaded", entry(index, "dax", "1").path("reason").asText());
        assertEquals(200, post("/v1/models/co2/forecast", WINDOW).statusCode(), "the other model is untouched");
        ServeFixtures.assertError(unload("dax"), 400, "failed to unload 'dax'");
        ServeFixtures.assertError(unload("nosuch"), 400, "failed to unload 'nosuch'");

        assertEquals(200, load("dax").statusCode(), "loads again after an unload");
        assertEquals(200, post("/v1/models/dax/forecast", WINDOW).statusCode());
    }

    @Test
    void aFailedLoadIs400WithTheReasonAndCountsForStrictReadiness() throws Exception {
        bundled("dax");
        truncated("broken", 1);
        start(ServeConfig.ModelControl.EXPLICIT, List.of("dax"), null, true);
        assertEquals(200, status("/v2/health/ready"), "strict readiness counts the models asked for, not the repository");

        HttpResponse<String> failed = load("broken");
        ServeFixtures.assertError(failed, 400, "failed to load 'broken'");
        ServeFixtures.assertError(failed, 400, "not an ONNX model");
        assertFalse(failed.body().contains(repo.toString()), "no server paths: " + failed.body());
        JsonNode entry = entry(index(""), "broken", "1");
        assertEquals("UNAVAILABLE", entry.path("state").asText());
        assertTrue(entry.path("reason").asText().contains("not an ONNX model"), entry.toString());
        assertEquals(503, status("/v2/health/ready"), "a model asked for and failed keeps a strict server not ready");
        assertEquals(200, unload("broken").statusCode(), "a failed model can be unloaded");
        assertEquals(200, status("/v2/health/ready"));
        assertEquals("not loaded", entry(index(""), "broken", "1").path("reason").asText());

        // One good version is enough; the failed one is reported beside it.
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("broken/2/model.onnx"));
        assertEquals(200, load("broken").statusCode());
        assertEquals(200, status("/v2/models/broken/versions/2/ready"));
        assertEquals("UNAVAILABLE", entry(index(""), "broken", "1").path("state").asText());

        ServeFixtures.assertError(load("nosuch"), 400, "failed to load 'nosuch'");
        Files.createDirectories(repo.resolve("empty"));
        ServeFixtures.assertError(load("empty"), 400, "no version folder");
        ServeFixtures.assertError(post("/v2/repository/models/dax/load", "{\"parameters\": {\"config\": \"{}\"}}"), 400,
                "not supported");
        ServeFixtures.assertError(post("/v2/repository/models/dax/load", "{\"parameters\": "), 400, "malformed JSON");
        ServeFixtures.assertError(post("/v2/repository/index", "{\"ready\": \"yes\"}"), 400, "'ready'");
        ServeFixtures.assertError(post("/v2/repository/index", "[]"), 400, "JSON object");
        assertEquals(200, status("/v2/models/dax/ready"), "failed requests leave the served model alone");
    }

    @Test
    void pollModeRefusesLoadAndUnloadAndIndexesReadyAndFailedVersions() throws Exception {
        bundled("dax");
        truncated("dax", 2);
        start(ServeConfig.ModelControl.POLL, List.of(), null, false);
        ServeFixtures.assertError(load("dax"), 400, "--model-control-mode");
        ServeFixtures.assertError(unload("dax"), 400, "polling is enabled");
        assertEquals(200, post("/v1/models/dax/forecast", WINDOW).statusCode(), "the refused unload unloaded nothing");

        JsonNode index = index("{}");
        assertEquals(2, index.size(), index.toString());
        assertEquals("READY", entry(index, "dax", "1").path("state").asText());
        assertEquals("UNAVAILABLE", entry(index, "dax", "2").path("state").asText());
        assertTrue(entry(index, "dax", "2").path("reason").asText().contains("not an ONNX model"), index.toString());
        assertNull(entry(index("{\"ready\": true}"), "dax", "2"));

        JsonNode meta = JSON.readTree(get("/v2").body());
        assertTrue(meta.path("extensions").toString().contains("\"model_repository\""), meta.toString());
        assertTrue(meta.path("extensions").toString().contains("\"model_repository_watch\""), meta.toString());
        assertEquals("poll", meta.path("model_control_mode").asText());
    }

    @Test
    void repositoryRoutesNeedTheApiKeyAndHealthChecksDoNot() throws Exception {
        bundled("dax");
        start(ServeConfig.ModelControl.EXPLICIT, List.of(), "k3y", false);
        assertEquals(401, post("/v2/repository/index", "").statusCode());
        assertEquals(401, load("dax").statusCode());
        assertEquals(200, status("/v2/health/ready"));
        assertEquals(200, HTTP.send(request("/v2/repository/index", "", "k3y"), HttpResponse.BodyHandlers.ofString())
                .statusCode());
        assertEquals(200, HTTP.send(request("/v2/repository/models/dax/load", "", "k3y"),
                HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(401, unload("dax").statusCode());
        assertEquals(200, HTTP.send(request("/v2/repository/models/dax/unload", "", "k3y"),
                HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void concurrentLoadsAndUnloadsLeaveOneConsistentState() throws Exception {
        bundled("dax", "co2");
        explicit();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                String path = "/v2/repository/models/" + (i % 3 == 0 ? "co2" : "dax") + (i % 2 == 0 ? "/load" : "/unload");
                answers.add(pool.submit(() -> post(path, "")));
            }
            for (Future<HttpResponse<String>> f : answers) {
                HttpResponse<String> r = f.get(120, TimeUnit.SECONDS);
                // An unload that finds nothing loaded is the only refusal a race may cause.
                assertTrue(r.statusCode() == 200 || r.statusCode() == 400 && r.body().contains("no version of it is loaded"),
                        r.statusCode() + " " + r.body());
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(200, load("dax").statusCode());
        assertEquals(200, load("co2").statusCode());
        JsonNode models = JSON.readTree(get("/v1/models").body()).path("models");
        assertEquals(2, models.size(), "one version of each, nothing doubled: " + models);
        assertEquals(200, post("/v1/models/dax/forecast", WINDOW).statusCode());
        assertEquals(200, unload("co2").statusCode());
        assertEquals(1, JSON.readTree(get("/v1/models").body()).path("models").size());
    }
}
