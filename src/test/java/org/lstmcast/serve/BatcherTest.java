package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import ai.onnxruntime.OrtSession;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.Ort;
import org.lstmcast.forecast.WindowBatch;

/**
 * The batcher on its own, with a runner that answers each window with the sum of its values (so every answer can be
 * checked against its request) and records the size of every run.
 */
class BatcherTest {
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final List<Integer> runs = new CopyOnWriteArrayList<>();

    private OnnxForecaster.Runner summing(CountDownLatch gate) {
        return windows -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            runs.add(windows.count());
            float[][] out = new float[windows.count()][1];
            for (int b = 0; b < windows.count(); b++) {
                for (int s = 0; s < windows.steps(); s++) {
                    out[b][0] += windows.get(b, s, 0);
                }
            }
            return out;
        };
    }

    private static WindowBatch windows(int count, float first) {
        float[][][] w = new float[count][3][1];
        for (int b = 0; b < count; b++) {
            for (int s = 0; s < 3; s++) {
                w[b][s][0] = first + b;
            }
        }
        return WindowBatch.of(w, 1);
    }

    private Batcher batcher(OnnxForecaster.Runner runner, int maxBatch, int maxQueue, int threads) {
        return new Batcher("t", runner, maxBatch, 0, maxQueue, threads, new VersionMeters(registry, "t", 1));
    }

    @Test
    void requestsQueuedWhileTheWorkerIsBusyRunTogether() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (Batcher b = batcher(summing(gate), 64, 100, 1)) {
            CompletableFuture<float[][]> first = b.submit(windows(1, 0));
            // The one worker is held in the first run; the next ten requests wait and must leave together.
            awaitDepth(b, 0);
            List<CompletableFuture<float[][]>> rest = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                rest.add(b.submit(windows(2, 10 * i)));
            }
            gate.countDown();
            assertEquals(0f, first.get(5, TimeUnit.SECONDS)[0][0]);
            for (int i = 0; i < 10; i++) {
                float[][] out = rest.get(i).get(5, TimeUnit.SECONDS);
                assertArrayEquals(new float[] {3 * 10f * i}, out[0]);
                assertArrayEquals(new float[] {3 * (10f * i + 1)}, out[1]);
            }
            assertEquals(List.of(1, 20), runs, "one run for the first request, one for the ten merged");
        }
    }

    @Test
    void anIdleBatcherOfAFastModelRunsOnTheCallersThreadOnceItsSpeedIsKnown() throws Exception {
        List<Thread> threads = new CopyOnWriteArrayList<>();
        OnnxForecaster.Runner sum = summing(new CountDownLatch(0));
        try (Batcher b = batcher(w -> {
            threads.add(Thread.currentThread());
            return sum.run(w);
        }, 8, 100, 1)) {
            // The first run's speed is unknown: a worker makes it.
            assertEquals(3f, b.submitOrRun(windows(1, 1)).get(5, TimeUnit.SECONDS)[0][0]);
            assertTrue(threads.get(0) != Thread.currentThread());
            // Idle for longer than a run takes: the caller runs it, and the answer is there on return.
            Thread.sleep(20);
            CompletableFuture<float[][]> here = b.submitOrRun(windows(2, 4));
            assertTrue(here.isDone());
            assertArrayEquals(new float[] {12f}, here.get()[0]);
            assertArrayEquals(new float[] {15f}, here.get()[1]);
            assertEquals(Thread.currentThread(), threads.get(1));
            // More windows than one batch never run on the caller's thread.
            Thread.sleep(20);
            b.submitOrRun(windows(9, 0)).get(5, TimeUnit.SECONDS);
            assertTrue(threads.subList(2, threads.size()).stream().noneMatch(t -> t == Thread.currentThread()));
        }
    }

    @Test
    void requestsThatArriveDuringARunOnTheCallersThreadGoToAWorkerAndBatch() throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch gate = new CountDownLatch(1);
        AtomicInteger calls = new AtomicInteger();
        OnnxForecaster.Runner sum = summing(new CountDownLatch(0));
        try (Batcher b = batcher(w -> {
            if (calls.incrementAndGet() == 2) {
                entered.countDown();
                try {
                    gate.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return sum.run(w);
        }, 64, 100, 1)) {
            b.submitOrRun(windows(1, 0)).get(5, TimeUnit.SECONDS);
            Thread.sleep(20);
            ExecutorService caller = Executors.newSingleThreadExecutor();
            try {
                Future<CompletableFuture<float[][]>> inline = caller.submit(() -> b.submitOrRun(windows(1, 7)));
                assertTrue(entered.await(5, TimeUnit.SECONDS));
                // The caller's run is in progress: these queue, whether asked to run here or not.
                List<CompletableFuture<float[][]>> rest = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    rest.add(i % 2 == 0 ? b.submitOrRun(windows(1, i)) : b.submit(windows(1, i)));
                }
                assertTrue(rest.stream().noneMatch(CompletableFuture::isDone));
                gate.countDown();
                assertEquals(21f, inline.get(5, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS)[0][0]);
                for (int i = 0; i < 5; i++) {
                    assertEquals(3f * i, rest.get(i).get(5, TimeUnit.SECONDS)[0][0]);
                }
                assertEquals(List.of(1, 1, 5), runs, "the five queued meanwhile are taken by a worker in one run");
            } finally {
                caller.shutdownNow();
            }
        }
    }

    @Test
    void aRequestLargerThanOneBatchIsCutAndPutBackInOrder() throws Exception {
        try (Batcher b = batcher(summing(new CountDownLatch(0)), 4, 100, 2)) {
            float[][] out = b.submit(windows(10, 0)).get(5, TimeUnit.SECONDS);
            for (int i = 0; i < 10; i++) {
                assertEquals(3f * i, out[i][0]);
            }
            assertTrue(runs.stream().allMatch(n -> n <= 4), runs.toString());
            assertEquals(10, runs.stream().mapToInt(Integer::intValue).sum());
        }
    }

    @Test
    void aSplitRequestThatMeetsAFullQueueWithdrawsItsQueuedParts() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (Batcher b = batcher(summing(gate), 2, 5, 1)) {
            b.submit(windows(1, 0));
            awaitDepth(b, 0);
            b.submit(windows(1, 1));
            b.submit(windows(1, 2));
            // Five parts of two windows against three free places: the fourth part is refused, and the three queued
            // before it must not run for a request that has already failed.
            assertThrows(Batcher.QueueFullException.class, () -> b.submit(windows(10, 0)));
            assertEquals(2, b.depth(), "the refused request's queued parts left the queue");
            gate.countDown();
            CompletableFuture<float[][]> later = b.submit(windows(1, 5));
            assertEquals(15f, later.get(5, TimeUnit.SECONDS)[0][0]);
            assertEquals(4, runs.stream().mapToInt(Integer::intValue).sum(), "only the four single windows ran: " + runs);
        }
    }

    @Test
    void aRequestLargerThanTheWholeQueueIsTheClientsMistake() throws Exception {
        try (Batcher b = batcher(summing(new CountDownLatch(0)), 2, 3, 1)) {
            ApiException e = assertThrows(ApiException.class, () -> b.submit(windows(7, 0)));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().contains("4 batches") && e.getMessage().contains("at most 6"), e.getMessage());
            assertEquals(0, b.depth());
            assertEquals(1f, b.submit(windows(6, 0)).get(5, TimeUnit.SECONDS).length / 6f, "six windows still fit");
        }
    }

    @Test
    void givingUpOnASplitRequestSkipsThePartsNotYetRun() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (Batcher b = batcher(summing(gate), 2, 100, 1)) {
            b.submit(windows(1, 0));
            awaitDepth(b, 0);
            CompletableFuture<float[][]> big = b.submit(windows(8, 0)).orTimeout(50, TimeUnit.MILLISECONDS);
            ExecutionException e = assertThrows(ExecutionException.class, () -> big.get(5, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof TimeoutException, e.toString());
            gate.countDown();
            assertEquals(7f, b.submit(windows(1, 7)).get(5, TimeUnit.SECONDS)[0][0] / 3);
            assertEquals(List.of(1, 1), runs, "the four timed-out parts never ran");
        }
    }

    @Test
    void aFullQueueIsRefusedAtOnceAndCounted() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        try (Batcher b = batcher(summing(gate), 1, 2, 1)) {
            b.submit(windows(1, 0));
            awaitDepth(b, 0);
            b.submit(windows(1, 0));
            b.submit(windows(1, 0));
            assertEquals(2, b.depth());
            assertEquals(2.0, registry.get("lstmcast_queue_depth").gauge().value());
            assertThrows(Batcher.QueueFullException.class, () -> b.submit(windows(1, 0)));
            gate.countDown();
        }
    }

    @Test
    void closeWhileBusyLetsTheRunningBatchFinishAndRefusesNewWork() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        Batcher b = batcher(summing(gate), 8, 100, 1);
        CompletableFuture<float[][]> running = b.submit(windows(1, 2));
        awaitDepth(b, 0);
        CompletableFuture<float[][]> queued = b.submit(windows(1, 3));
        Thread closer = new Thread(b::close);
        closer.start();
        closer.join(200);
        assertTrue(closer.isAlive(), "close waits for the busy worker");
        ApiException refused = assertThrows(ApiException.class, () -> b.submit(windows(1, 0)));
        assertEquals(503, refused.status());
        gate.countDown();
        closer.join(5_000);
        assertEquals(6f, running.get(1, TimeUnit.SECONDS)[0][0]);
        assertEquals(9f, queued.get(1, TimeUnit.SECONDS)[0][0], "what was queued is still answered");
    }

    @Test
    void aWorkerThatClosesItsOwnBatcherDoesNotWaitForItself() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Batcher[] self = new Batcher[1];
        Batcher b = batcher(windows -> new float[windows.count()][1], 8, 100, 1);
        self[0] = b;
        long[] closeNanos = new long[1];
        CompletableFuture<float[][]> f = b.submit(windows(1, 0)).whenComplete((out, e) -> {
            // Runs on the worker: what a last release() did before closes moved to a thread of their own.
            long start = System.nanoTime();
            self[0].close();
            closeNanos[0] = System.nanoTime() - start;
            calls.incrementAndGet();
        });
        f.get(10, TimeUnit.SECONDS);
        assertEquals(1, calls.get());
        assertTrue(closeNanos[0] < TimeUnit.SECONDS.toNanos(5), "close took " + closeNanos[0] / 1e9 + " s on its own worker");
    }

    @Test
    void manyThreadsGetTheirOwnAnswers() throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(16);
        try (Batcher b = batcher(summing(new CountDownLatch(0)), 16, 10_000, 2)) {
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < 16; c++) {
                int client = c;
                done.add(clients.submit(() -> {
                    for (int i = 0; i < 200; i++) {
                        float first = client * 1000 + i;
                        int n = 1 + (i % 3);
                        float[][] out = b.submit(windows(n, first)).get(10, TimeUnit.SECONDS);
                        for (int k = 0; k < n; k++) {
                            assertEquals(3 * (first + k), out[k][0], "client " + client + " request " + i);
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> d : done) {
                d.get(60, TimeUnit.SECONDS);
            }
            int windowsPerClient = 0;
            for (int i = 0; i < 200; i++) {
                windowsPerClient += 1 + (i % 3);
            }
            assertEquals(16 * windowsPerClient, runs.stream().mapToInt(Integer::intValue).sum(), "every window ran once");
            assertEquals(runs.size(), (long) registry.get("lstmcast_batch_size").summary().count());
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void requestsGivenUpBeforeTheirRunLeaveTheQueueAreCountedOnceAndNeverRun() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        VersionMeters meters = new VersionMeters(registry, "given-up", 1);
        try (Batcher b = new Batcher("t", summing(gate), 4, 0, 100, 1, meters)) {
            CompletableFuture<float[][]> first = b.submit(windows(1, 0));
            awaitDepth(b, 0);
            CompletableFuture<float[][]> cancelled = b.submit(windows(1, 100));
            // Nine windows in batches of four: three parts, given up together and counted as one request.
            CompletableFuture<float[][]> late = b.submit(windows(9, 200)).orTimeout(50, TimeUnit.MILLISECONDS);
            CompletableFuture<float[][]> kept = b.submit(windows(1, 7));
            assertEquals(5, b.depth());
            cancelled.completeExceptionally(Batcher.GaveUp.cancelled("the client went away"));
            assertEquals(4, b.depth(), "the cancelled request left the queue at once");
            ExecutionException timedOut = assertThrows(ExecutionException.class, () -> late.get(5, TimeUnit.SECONDS));
            assertTrue(timedOut.getCause() instanceof TimeoutException);
            assertEquals(1, b.depth(), "every part of the late request left the queue");
            gate.countDown();
            assertEquals(21f, kept.get(5, TimeUnit.SECONDS)[0][0]);
            assertEquals(0f, first.get(5, TimeUnit.SECONDS)[0][0]);
            assertEquals(List.of(1, 1), runs, "only the requests still wanted ran");
            assertEquals(new VersionMeters.GivenUp(1, 1, 0), meters.givenUp());
        }
    }

    /** Waits until the workers have taken everything queued: a worker is then inside the runner. */
    private static void awaitDepth(Batcher b, int depth) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (b.depth() != depth && System.nanoTime() < end) {
            Thread.sleep(2);
        }
        Thread.sleep(20);
        assertEquals(depth, b.depth());
    }

    /** A window of the slow model's 1500 steps keeps it busy for many seconds: a run past the 300 ms limit is stopped. */
    @Test
    void aRunPastTheLimitForOneRunIsStoppedAndItsCallerToldSo() throws Exception {
        ExecutorService workers = Executors.newCachedThreadPool();
        VersionMeters meters = new VersionMeters(new SimpleMeterRegistry(), "slow", 1);
        OrtSession.SessionOptions options = Ort.sessionOptions();
        options.setIntraOpNumThreads(1);
        try (options; OrtSession session = Ort.environment().createSession(ServeFixtures.slowModel(150), options)) {
            OnnxForecaster forecaster = OnnxForecaster.over(session,
                    new ForecastSpec("input", "forecast", 0, 1, List.of("value"), "value", null, null), null);
            try (Batcher batcher = new Batcher("slow", forecaster::run, 8, 0, 16, 1, TimeUnit.MILLISECONDS.toNanos(300),
                    meters, workers)) {
                long start = System.nanoTime();
                ExecutionException failed = assertThrows(ExecutionException.class,
                        () -> batcher.submit(WindowBatch.of(new float[1][1500][1], 1)).get(30, TimeUnit.SECONDS));
                long tookMs = (System.nanoTime() - start) / 1_000_000;
                ApiException cause = (ApiException) failed.getCause();
                assertEquals(503, cause.status());
                assertTrue(cause.getMessage().contains("stopped after 300 ms"), cause.getMessage());
                assertEquals(1, meters.givenUp().runsTerminated());
                float[][] y = batcher.submit(WindowBatch.of(new float[2][8][1], 1)).get(30, TimeUnit.SECONDS);
                assertEquals(2, y.length, "the session serves on after a stopped run");
                System.out.printf("run stopped after %d ms%n", tookMs);
            }
        } finally {
            workers.shutdown();
        }
    }
}
