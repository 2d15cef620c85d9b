package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The registry and its model versions on real ONNX files, scanned by hand rather than by the timer. */
class ModelRegistryTest {
    @TempDir
    Path repo;
    SimpleMeterRegistry metrics;
    ModelRegistry registry;

    @BeforeEach
    void start() {
        metrics = new SimpleMeterRegistry();
        // The watcher's own period is long: each test scans when it has changed something.
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 8, 0, 64, 1, 3600, ServeConfig.Limits.defaults(), null);
        registry = new ModelRegistry(config, metrics);
        registry.start();
    }

    @AfterEach
    void stop() {
        registry.close();
    }

    private static List<double[][]> flat(int rows, double value) {
        double[][] w = new double[rows][1];
        for (double[] r : w) {
            r[0] = value;
        }
        return List.<double[][]>of(w);
    }

    private ModelRegistry.VersionStatus status(String name, long version) {
        return registry.statuses().stream().filter(s -> s.name().equals(name) && s.version() == version).findFirst()
                .orElse(null);
    }

    private void touch(Path file, long secondsLater) throws Exception {
        Files.setLastModifiedTime(file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + secondsLater * 1000));
    }

    private long meterCount(String model) {
        return metrics.getMeters().stream().map(Meter::getId)
                .filter(id -> id.getName().startsWith("lstmcast_") && model.equals(id.getTag("model"))).count();
    }

    @Test
    void loadsFailsRetriesOnChangeAndRemoves() throws Exception {
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("m/1/model.onnx"));
        Files.createDirectories(repo.resolve("m/2"));
        Files.copy(ServeFixtures.fixture("truncated.onnx"), repo.resolve("m/2/model.onnx"));
        registry.scan();
        assertEquals("READY", status("m", 1).state());
        assertEquals("FAILED", status("m", 2).state());
        assertTrue(status("m", 2).reason().contains("not an ONNX model"), status("m", 2).reason());
        assertFalse(status("m", 2).reason().contains(repo.toString()), "no server paths in reasons: " + status("m", 2).reason());
        assertFalse(registry.ready(true), "strict: a version folder with nothing serving");
        assertTrue(registry.ready(false));
        ModelVersion served = registry.acquire("m", null);
        assertEquals(1, served.version, "the failed version 2 does not take over");
        served.release();

        Files.copy(Path.of("models/co2/1/model.onnx"), repo.resolve("m/2/model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        registry.scan();
        assertEquals("READY", status("m", 2).state(), "retried once the file changed");
        assertTrue(registry.ready(true));

        ServeFixtures.deleteTree(repo.resolve("m"));
        registry.scan();
        assertNull(status("m", 1));
        ApiException gone = assertThrows(ApiException.class, () -> registry.acquire("m", null));
        assertEquals(404, gone.status());
        assertEquals(0, meterCount("m"), "a removed model leaves no series behind");
    }

    @Test
    void aVersionRetiredWithARequestInFlightClosesAfterItOnAnotherThread() throws Exception {
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("m/1/model.onnx"));
        registry.scan();
        ModelVersion v = registry.acquire("m", null);
        long[] releaseNanos = new long[1];
        CompletableFuture<double[][]> answer = v.forecast(flat(30, 5000), 5, 30_000).whenComplete((f, e) -> {
            // The last holder lets go in the completion callback, on the batcher's worker.
            long start = System.nanoTime();
            v.release();
            releaseNanos[0] = System.nanoTime() - start;
        });
        ServeFixtures.deleteTree(repo.resolve("m"));
        registry.scan();
        assertEquals(5, answer.get(10, TimeUnit.SECONDS)[0].length, "the request in flight is answered");
        ServeFixtures.awaitTrue(v::isClosed, "the retired version closes");
        assertTrue(releaseNanos[0] < TimeUnit.SECONDS.toNanos(2),
                "release() on the worker took " + releaseNanos[0] / 1e9 + " s: it must not wait for the close");
        assertEquals(ModelVersion.State.UNLOADING, v.state());
        assertFalse(v.acquire(), "a retired version takes no new requests");
    }

    @Test
    void closeAndRetireAreIdempotent() throws Exception {
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("m/1/model.onnx"));
        registry.scan();
        ModelVersion v = registry.acquire("m", null);
        v.retire();
        v.retire();
        assertFalse(v.isClosed(), "a second retire() must not drop the request's hold");
        v.release();
        ServeFixtures.awaitTrue(v::isClosed, "closes once the last holder lets go");
        v.close();
        v.close();
    }

    @Test
    void reloadsKeepTheModelsMetersAndTheirCounts() throws Exception {
        Path file = repo.resolve("m/1/model.onnx");
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), file);
        registry.scan();
        ModelVersion v = registry.acquire("m", null);
        v.forecast(flat(30, 5000), 5, 30_000).get(10, TimeUnit.SECONDS);
        v.recordRequest("forecast", 1_000_000, true);
        v.release();
        long before = meterCount("m");
        assertTrue(before >= 6, "batch, queue, compute, depth, request timer and counter: " + before);
        for (int reload = 1; reload <= 3; reload++) {
            touch(file, reload);
            ModelVersion old = registry.acquire("m", null);
            old.release();
            registry.scan();
            ServeFixtures.awaitTrue(old::isClosed, "reload " + reload + " retires the old load");
            ModelVersion now = registry.acquire("m", null);
            assertTrue(now != old, "reload " + reload + " loaded the file again");
            now.recordRequest("forecast", 1_000_000, true);
            now.release();
            assertEquals(before, meterCount("m"), "series after reload " + reload);
        }
        assertEquals(4.0, metrics.get("lstmcast_requests_total").tag("model", "m").counter().count(),
                "the count goes on across reloads");
        assertNotNull(metrics.find("lstmcast_queue_depth").tag("model", "m").gauge());
    }

    @Test
    void editingForecastJsonOrConfigJsonReloadsTheModel() throws Exception {
        ServeFixtures.copy(ServeFixtures.fixture("torch_lstm_univariate.onnx"), repo.resolve("t/1/model.onnx"));
        registry.scan();
        ModelVersion first = registry.acquire("t", null);
        assertEquals(0, first.spec.lookback(), "a dynamic sequence and no sidecar: windows as sent");
        first.release();

        Files.writeString(repo.resolve("t/forecast.json"), "{\"lookback\": 12}");
        registry.scan();
        ModelVersion second = registry.acquire("t", null);
        assertEquals(12, second.spec.lookback(), "forecast.json took effect without touching model.onnx");
        second.release();

        // A forecast.json that cannot apply fails the new load; the earlier one keeps serving.
        Files.writeString(repo.resolve("t/forecast.json"), "{\"lookback\": 12, \"scaling\": {\"min\": [0, 0], \"max\": [1, 1]}}");
        registry.scan();
        assertEquals("READY", status("t", 1).state());
        ModelVersion still = registry.acquire("t", null);
        assertEquals(second, still);
        still.release();

        Files.delete(repo.resolve("t/forecast.json"));
        registry.scan();
        ModelVersion third = registry.acquire("t", null);
        assertEquals(0, third.spec.lookback(), "forecast.json removed: back to the model's own signature");
        third.release();

        Files.writeString(repo.resolve("t/config.json"), "{\"max_batch_size\": 2}");
        registry.scan();
        ModelVersion fourth = registry.acquire("t", null);
        assertTrue(fourth != third, "config.json reloads too");
        fourth.release();
    }

    @Test
    void aTimeMajorModelWithoutSidecarForecastsAndAModelThatCannotSaysWhy() throws Exception {
        ServeFixtures.copy(ServeFixtures.fixture("helper_time_major.onnx"), repo.resolve("tm/1/model.onnx"));
        ServeFixtures.copy(ServeFixtures.fixture("helper_two_outputs.onnx"), repo.resolve("two/1/model.onnx"));
        registry.scan();
        ModelVersion tm = registry.acquire("tm", null);
        try {
            assertTrue(tm.canForecast());
            assertTrue(tm.spec.timeMajor(), "dims named [seq, batch, 1]");
            var expected = new ObjectMapper()
                    .readTree(ServeFixtures.fixture("helper_time_major.expected.json").toFile());
            for (int w = 0; w < expected.get("windows").size(); w++) {
                var window = expected.get("windows").get(w);
                double[][] rows = new double[window.size()][1];
                for (int r = 0; r < rows.length; r++) {
                    rows[r][0] = window.get(r).get(0).asDouble();
                }
                double[] got = tm.forecast(List.<double[][]>of(rows, rows), 3, 10_000).get(10, TimeUnit.SECONDS)[1];
                for (int h = 0; h < 3; h++) {
                    double want = expected.get("expected").get(w).get(h).asDouble();
                    assertEquals(want, got[h], 1e-5 + 1e-4 * Math.abs(want), "window " + w + " step " + h);
                }
            }
        } finally {
            tm.release();
        }
        ModelVersion two = registry.acquire("two", null);
        try {
            assertFalse(two.canForecast());
            assertTrue(two.notForecasting.contains("outputs"), two.notForecasting);
        } finally {
            two.release();
        }
    }

    @Test
    void listingWhileVersionsCloseNeverFails() throws Exception {
        Path file = repo.resolve("m/1/model.onnx");
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), file);
        registry.scan();
        Thread lister = new Thread(() -> {
            for (int i = 0; i < 2000; i++) {
                for (ModelRegistry.VersionStatus s : registry.statuses()) {
                    if (s.loaded() != null && s.loaded().inputs.isEmpty()) {
                        throw new AssertionError("no inputs listed");
                    }
                }
            }
        });
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        lister.setUncaughtExceptionHandler((t, e) -> failures.add(e));
        lister.start();
        for (int reload = 1; reload <= 5 && lister.isAlive(); reload++) {
            touch(file, reload);
            registry.scan();
        }
        lister.join(30_000);
        assertEquals(List.of(), failures);
    }
}
