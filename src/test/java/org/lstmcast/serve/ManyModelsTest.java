package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A repository served lazily: models load on their first request, within a bound, without a thread each. */
class ManyModelsTest {
    private static final Path DAX = Path.of("models/dax/1/model.onnx");

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
        Files.copy(ServerTest.fixture("truncated.onnx"), file);
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

        Files.copy(DAX, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
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
