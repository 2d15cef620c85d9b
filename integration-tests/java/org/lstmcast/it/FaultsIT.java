package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Faults injected into a running server under concurrent load: swaps, removals, broken files, overload, SIGTERM. */
class FaultsIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String WINDOW = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "5000.5")) + "]]}";

    @TempDir
    Path work;

    static Path bundled(String name) {
        return Program.ROOT.resolve("models").resolve(name).resolve("1/model.onnx").toAbsolutePath();
    }

    static Path fixture(String name) {
        return Program.ROOT.resolve("src/test/resources/fixtures").resolve(name).toAbsolutePath();
    }

    static JsonNode find(ServerProcess s, String name, String version) throws Exception {
        for (JsonNode m : JSON.readTree(s.get("/v1/models").body()).path("models")) {
            if (m.path("name").asText().equals(name) && m.path("version").asText().equals(version)) {
                return m;
            }
        }
        return null;
    }

    @Test
    void swapsRemovalsAndBrokenFilesUnderLoad() throws Exception {
        Path repo = Files.createDirectories(work.resolve("repo"));
        ServerProcess.copy(bundled("dax"), repo.resolve("m/1/model.onnx"));
        ServerProcess.copy(bundled("co2"), repo.resolve("other/1/model.onnx"));
        ServerProcess.copy(bundled("co2"), repo.resolve("gone/1/model.onnx"));
        try (ServerProcess server = ServerProcess.start(work, repo)) {
            AtomicBoolean goneDeleted = new AtomicBoolean();
            AtomicLong goneWrong = new AtomicLong();
            Load load = new Load(server, 6, 200_000, 120_000, i -> s -> {
                String model = i % 3 == 0 ? "m" : i % 3 == 1 ? "other" : "gone";
                HttpResponse<String> r = s.post("/v1/models/" + model + "/forecast", WINDOW);
                if (model.equals("gone")) {
                    boolean deleted = goneDeleted.get();
                    // Before the deletion is seen: 200; after: 404 naming the model. Nothing else, ever.
                    if (!(r.statusCode() == 200 || deleted && r.statusCode() == 404 && r.body().contains("unknown model"))) {
                        goneWrong.incrementAndGet();
                    }
                    return r.statusCode() == 404 ? 1404 : r.statusCode();
                }
                return r.statusCode();
            });
            try {
                Thread.sleep(500);
                // A new version is dropped in and takes over.
                ServerProcess.copy(bundled("co2"), repo.resolve("m/2/model.onnx"));
                ServerProcess.awaitTrue(() -> server.status("/v2/models/m/versions/2/ready") == 200, "m/2 ready");
                Thread.sleep(300);
                // The serving version's file is replaced in place.
                ServerProcess.copy(bundled("dax"), repo.resolve("m/2/model.onnx"));
                Thread.sleep(800);
                // The old version is deleted while requests run.
                ServerProcess.deleteTree(repo.resolve("m/1"));
                ServerProcess.awaitTrue(() -> server.status("/v2/models/m/versions/1") == 404, "m/1 unloaded");
                // A whole model is deleted.
                goneDeleted.set(true);
                ServerProcess.deleteTree(repo.resolve("gone"));
                ServerProcess.awaitTrue(() -> server.status("/v2/models/gone") == 404, "gone unloaded");
                // Broken files arrive.
                Files.createDirectories(repo.resolve("truncated/1"));
                Files.write(repo.resolve("truncated/1/model.onnx"), Files.readAllBytes(fixture("truncated.onnx")));
                byte[] noise = new byte[50_000];
                new Random(6).nextBytes(noise);
                Files.createDirectories(repo.resolve("noise/1"));
                Files.write(repo.resolve("noise/1/model.onnx"), noise);
                ServerProcess.copy(fixture("helper_dense.onnx"), repo.resolve("dense/1/model.onnx"));
                ServerProcess.copy(fixture("helper_lstm_layout1.onnx"), repo.resolve("layout1/1/model.onnx"));
                ServerProcess.awaitTrue(() -> {
                    try {
                        return find(server, "layout1", "1") != null && find(server, "noise", "1") != null
                                && find(server, "truncated", "1") != null && find(server, "dense", "1") != null;
                    } catch (Exception e) {
                        return false;
                    }
                }, "the broken files are reported");
                Thread.sleep(500);
            } finally {
                load.stopAndWait();
            }
            JsonNode truncated = find(server, "truncated", "1");
            assertTrue(truncated.path("reason").asText().contains("not an ONNX model"), truncated.toString());
            assertEquals("FAILED", find(server, "noise", "1").path("state").asText());
            assertEquals("FAILED", find(server, "layout1", "1").path("state").asText());
            assertTrue(find(server, "layout1", "1").path("reason").asText().contains("layout=1"));
            JsonNode dense = find(server, "dense", "1");
            assertTrue(dense.path("forecast").isNull(), "a dense model cannot forecast");
            assertTrue(dense.path("forecast_unavailable").asText().contains("rank 2"), dense.toString());
            assertEquals(400, server.post("/v1/models/dense/forecast", WINDOW).statusCode());

            System.out.printf("faults under load: %d requests, statuses %s%n", load.total(), load.statuses);
            assertEquals(0, goneWrong.get(), "requests to the deleted model: 200 before, 404 after, nothing else");
            long failed = load.total() - load.count(200) - load.count(1404);
            assertEquals(0, failed, "every request to the swapped and untouched models succeeded: " + load.statuses);
            assertTrue(load.count(200) > 100, "the load ran: " + load.statuses);
            assertTrue(load.count(1404) > 0, "the deleted model answered 404: " + load.statuses);
            assertEquals(0, server.terminate());
        }
    }

    @Test
    void overfilledQueueIsAnswered503AndTheServerRecovers() throws Exception {
        Path repo = Files.createDirectories(work.resolve("repo"));
        ServerProcess.copy(bundled("dax"), repo.resolve("tiny/1/model.onnx"));
        Files.writeString(repo.resolve("tiny/config.json"), "{\"max_batch_size\": 4, \"max_queue\": 20}");
        String many = "{\"inputs\": [" + String.join(",", Collections.nCopies(64, WINDOW.substring(12, WINDOW.length() - 2))) + "]}";
        try (ServerProcess server = ServerProcess.start(work, repo)) {
            assertEquals(200, server.post("/v1/models/tiny/forecast", many).statusCode());
            long rssBefore = server.rssBytes();
            AtomicLong retryAfter = new AtomicLong();
            Load load = new Load(server, 16, 400, 60_000, i -> s -> {
                HttpResponse<String> r = s.post("/v1/models/tiny/forecast", many);
                if (r.statusCode() == 503 && r.headers().firstValue("Retry-After").isPresent() && r.body().contains("queue full")) {
                    retryAfter.incrementAndGet();
                }
                return r.statusCode();
            });
            load.awaitDone();
            long rssAfter = server.rssBytes();
            System.out.printf("overload: %d requests, statuses %s, RSS %d -> %d MB%n", load.total(), load.statuses,
                    rssBefore >> 20, rssAfter >> 20);
            assertTrue(load.count(503) > 0, "the queue overflowed: " + load.statuses);
            assertEquals(load.count(503), retryAfter.get(), "every 503 says queue full and carries Retry-After");
            assertEquals(load.total(), load.count(200) + load.count(503), "only 200 or 503: " + load.statuses);
            assertTrue(rssAfter - rssBefore < 256L << 20, "memory stayed flat: " + (rssBefore >> 20) + " -> " + (rssAfter >> 20) + " MB");
            assertEquals(200, server.post("/v1/models/tiny/forecast", WINDOW).statusCode(), "recovers when the load drops");
            assertEquals(0, server.terminate());
        }
    }

    @Test
    void sigtermUnderLoadAnswersEveryAcceptedRequest() throws Exception {
        Path repo = Files.createDirectories(work.resolve("repo"));
        ServerProcess.copy(bundled("dax"), repo.resolve("m/1/model.onnx"));
        try (ServerProcess server = ServerProcess.start(work, repo)) {
            Load load = new Load(server, 8, 1_000_000, 60_000, i -> s -> s.post("/v1/models/m/forecast", WINDOW).statusCode());
            Thread.sleep(1500);
            int code = server.terminate();
            load.stopAndWait();
            System.out.printf("SIGTERM under load: %d requests, statuses %s (-1: refused after the stop)%n", load.total(), load.statuses);
            assertEquals(0, code);
            assertTrue(load.count(200) > 20, "the load ran before the signal: " + load.statuses);
            assertEquals(load.total(), load.count(200) + load.count(-1), "no request got an error answer: " + load.statuses);
        }
    }
}
