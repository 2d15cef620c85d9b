package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged server on a repository of 2,000 models, at most 50 of them loaded. */
class ManyModelsIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MODELS = 2_000;
    private static final int ASKED = 200;
    private static final int MAX_LOADED = 50;

    @TempDir
    Path work;

    private static double metric(String scrape, String series) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " ([0-9.eE+-]+)$").matcher(scrape);
        assertTrue(m.find(), series + " in\n" + scrape.lines().filter(l -> l.startsWith("lstmcast_model")).toList());
        return Double.parseDouble(m.group(1));
    }

    private static long threads(ServerProcess server) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(server.process.pid()), "status"))) {
            if (line.startsWith("Threads:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no thread count in /proc");
    }

    @Test
    void servesThousandsOfModelsLazilyWithinABound() throws Exception {
        Path dax = Program.ROOT.resolve("models/dax/1/model.onnx").toAbsolutePath();
        Path repo = work.resolve("repo");
        for (int i = 0; i < MODELS; i++) {
            Path file = Files.createDirectories(repo.resolve(String.format("s%04d/1", i))).resolve("model.onnx");
            try {
                Files.createLink(file, dax);
            } catch (IOException | UnsupportedOperationException e) {
                Files.copy(dax, file);
            }
        }
        long start = System.nanoTime();
        try (ServerProcess server = ServerProcess.start(work, repo, "--max-loaded", Integer.toString(MAX_LOADED))) {
            double startSeconds = (System.nanoTime() - start) / 1e9;
            assertEquals(200, server.status("/v2/health/ready"));
            // The JVM's own start is in this; indexing 2,000 folders is a small part of it.
            assertTrue(startSeconds < 15, "ready after " + startSeconds + " s");

            StringBuilder window = new StringBuilder();
            for (int i = 0; i < 30; i++) {
                window.append(i == 0 ? "" : ",").append(5000 + 10 * i);
            }
            String body = "{\"inputs\": [[" + window + "]], \"horizon\": 5}";
            long baseline = -1;
            String expected = null;
            for (int i = 0; i < ASKED; i++) {
                String name = String.format("s%04d", i * (MODELS / ASKED));
                HttpResponse<String> r = server.post("/v1/models/" + name + "/forecast", body);
                assertEquals(200, r.statusCode(), name + ": " + r.body());
                String forecast = JSON.readTree(r.body()).path("forecasts").toString();
                if (expected == null) {
                    expected = forecast;
                    baseline = threads(server);
                }
                assertEquals(expected, forecast, name + " is a copy of the same model");
            }
            // The inference protocol loads on demand too.
            HttpResponse<String> meta = server.get("/v2/models/s1999");
            assertEquals(200, meta.statusCode(), meta.body());
            HttpResponse<String> infer = server.post("/v2/models/s1998/infer", "{\"inputs\": [{\"name\": \"input\", "
                    + "\"shape\": [1, 30, 1], \"datatype\": \"FP32\", \"data\": [" + window + "]}]}");
            assertEquals(200, infer.statusCode(), infer.body());

            JsonNode models = JSON.readTree(server.get("/v1/models").body()).path("models");
            assertEquals(MODELS, models.size());
            Map<String, Integer> states = new TreeMap<>();
            models.forEach(m -> states.merge(m.path("state").asText(), 1, Integer::sum));
            assertEquals(MAX_LOADED, states.get("READY"), states.toString());
            assertEquals(MODELS - MAX_LOADED, states.get("UNLOADED"), states.toString());

            String scrape = server.get("/metrics").body();
            int loads = ASKED + 2;
            assertEquals(loads, metric(scrape, "lstmcast_model_loads_total{outcome=\"success\"}"));
            assertEquals(loads - MAX_LOADED, metric(scrape, "lstmcast_model_evictions_total"));
            assertEquals(MAX_LOADED, metric(scrape, "lstmcast_models_loaded"));
            assertEquals(loads, metric(scrape, "lstmcast_model_load_seconds_count"));

            long now = threads(server);
            assertTrue(now - baseline <= 16, "threads went from " + baseline + " after one model to " + now
                    + " after " + loads + " loads");
            assertEquals(0, server.terminate());
        }
    }
}
