package org.lstmcast.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.WindowBatch;

/**
 * Dynamic batching for one model version: windows of the same length from concurrent requests are merged into one
 * model run of at most {@code maxBatch} rows, with at most {@code threads} runs at a time. A request queues, and a
 * free worker takes at once whatever is queued: alone on an idle server, with company under load, so batches grow
 * with the load and no one waits for a batch to fill. The caller's thread never runs the model: the HTTP layer reads
 * and parses the next requests meanwhile, which is what lets the batches form. With {@code maxDelayNanos > 0}
 * workers also wait that long for company, as Triton's {@code max_queue_delay_microseconds} does. The queue is
 * bounded: beyond {@code maxQueue} waiting requests a submit fails at once, so overload is answered with 503.
 *
 * <p>The workers are borrowed from a pool shared by every batcher of the server: a batcher with nothing queued holds
 * no thread, so a server with thousands of loaded models has as many threads as one with a single model. A worker
 * drains its batcher until the queue is empty, then goes back to the pool.
 */
final class Batcher implements AutoCloseable {
    /** Thrown by {@link #submit} when the queue is full. */
    static final class QueueFullException extends RuntimeException {
        QueueFullException(String message) {
            super(message);
        }
    }

    private static final class Pending {
        final WindowBatch windows;
        final CompletableFuture<float[][]> result = new CompletableFuture<>();
        final long enqueued = System.nanoTime();

        Pending(WindowBatch windows) {
            this.windows = windows;
        }

        /** Whether its windows can share a model run with {@code other}'s. */
        boolean fits(Pending other) {
            return windows.steps() == other.windows.steps() && windows.features() == other.windows.features();
        }
    }

    private final OnnxForecaster.Runner runner;
    private final int maxBatch;
    private final long maxDelayNanos;
    private final int maxQueue;
    private final ArrayDeque<Pending> queue = new ArrayDeque<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    /** Ends when the last drain of a closed batcher has left. */
    private final Condition drained = lock.newCondition();
    private final Executor workers;
    private final int threads;
    /** Drains submitted to the pool and not yet ended; guarded by {@link #lock}. */
    private int running;
    /** Drains running a model now (outside the lock); guarded by {@link #lock}. */
    private int busy;
    private final VersionMeters meters;
    private volatile boolean closed;
    /** The batcher whose drain runs on this thread: a close from there must not wait for itself. */
    private static final ThreadLocal<Batcher> DRAINING = new ThreadLocal<>();
    /** For batchers made without a server's pool (tests): daemon threads that end when idle. */
    private static final ExecutorService OWN_POOL = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "batcher");
        t.setDaemon(true);
        return t;
    });

    Batcher(String name, OnnxForecaster.Runner runner, int maxBatch, long maxDelayNanos, int maxQueue, int threads,
            VersionMeters meters) {
        this(name, runner, maxBatch, maxDelayNanos, maxQueue, threads, meters, OWN_POOL);
    }

    /** @param workers the shared pool the drains run on; {@code threads} bounds how many of them serve this batcher */
    Batcher(String name, OnnxForecaster.Runner runner, int maxBatch, long maxDelayNanos, int maxQueue, int threads,
            VersionMeters meters, Executor workers) {
        this.runner = runner;
        this.maxBatch = Math.max(1, maxBatch);
        this.maxDelayNanos = Math.max(0, maxDelayNanos);
        this.maxQueue = Math.max(1, maxQueue);
        this.meters = meters;
        this.workers = workers;
        this.threads = Math.max(1, threads);
        meters.queueDepth(this::depth);
    }

    /** Requests waiting for a model run now. */
    int depth() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues windows of equal length; the future completes with one output row per window. Completing the future
     * early (a timeout, a cancel) withdraws whatever of the request has not run yet.
     */
    CompletableFuture<float[][]> submit(WindowBatch windows) {
        long batches = (windows.count() + (long) maxBatch - 1) / maxBatch;
        if (batches > maxQueue) {
            // It could not be queued whole even on an idle server: the request is too large, not the server too busy.
            throw ApiException.badRequest("too many windows for one request: " + windows.count() + " windows make " + batches
                    + " batches of at most " + maxBatch + ", more than the model's queue holds (" + maxQueue
                    + ", max_queue); send at most " + (long) maxQueue * maxBatch + " per request");
        }
        if (windows.count() <= maxBatch) {
            Pending p = enqueue(new Pending(windows));
            p.result.whenComplete((out, error) -> {
                if (error != null) {
                    withdraw(List.of(p));
                }
            });
            return p.result;
        }
        // A request larger than one batch is cut into batches, answered together; when one part fails, or the
        // whole is given up, the parts still queued leave the queue rather than run for no one.
        CompletableFuture<float[][]> whole = new CompletableFuture<>();
        List<Pending> parts = new ArrayList<>();
        whole.whenComplete((out, error) -> {
            if (error != null) {
                List<Pending> queued;
                synchronized (parts) {
                    queued = List.copyOf(parts);
                }
                withdraw(queued);
                queued.forEach(p -> p.result.completeExceptionally(error));
            }
        });
        try {
            for (int from = 0; from < windows.count() && !whole.isDone(); from += maxBatch) {
                Pending part = enqueue(new Pending(windows.slice(from, Math.min(windows.count(), from + maxBatch))));
                synchronized (parts) {
                    parts.add(part);
                }
                part.result.whenComplete((out, error) -> {
                    if (error != null) {
                        whole.completeExceptionally(error);
                    }
                });
                if (whole.isDone()) {
                    // Given up on while this part was queued, after the parts were withdrawn.
                    withdraw(List.of(part));
                    part.result.cancel(false);
                }
            }
        } catch (RuntimeException e) {
            whole.completeExceptionally(e);
            throw e;
        }
        CompletableFuture.allOf(parts.stream().map(p -> p.result).toArray(CompletableFuture[]::new)).thenRun(() -> {
            float[][] out = new float[windows.count()][];
            int k = 0;
            for (Pending p : parts) {
                for (float[] row : p.result.join()) {
                    out[k++] = row;
                }
            }
            whole.complete(out);
        });
        return whole;
    }

    /** Runs longer than this, on average, are never made on the caller's thread (see {@link #submitOrRun}). */
    private static final long INLINE_MAX_NANOS = 1_000_000;
    /** Exponentially weighted mean of a run's nanoseconds; written under no lock, read as a hint. */
    private volatile long meanRunNanos = Long.MAX_VALUE;

    /** {@link System#nanoTime()} when the last run ended. */
    private volatile long lastRunEnd = System.nanoTime();

    /**
     * {@link #submit}, except that on a batcher that has been idle for longer than a run takes (nothing queued, no
     * run in progress, no delay asked), windows that fit one batch, of a model that runs in under a millisecond, are
     * run at once on the calling thread. Such a request has no company to wait for, and an idle batcher would run it
     * alone anyway; running it here saves the hand-off to a worker and, for a caller on a Netty event loop, the second
     * hand-off that a write from a worker costs there. Requests that arrive meanwhile queue for a worker. The idle
     * time is what keeps batching under load: the requests of one burst arrive closer together than a run lasts, so
     * after the first the rest go to a worker and are batched. A request that fills a batch alone is run here whenever
     * the batcher is idle, since nothing could join it. The first runs, while the model's speed is unknown, go to a
     * worker.
     */
    CompletableFuture<float[][]> submitOrRun(WindowBatch windows) {
        long mean = meanRunNanos;
        // A full batch has no company to wait for, however soon after the last run it comes.
        boolean full = windows.count() == maxBatch;
        if (windows.count() > maxBatch || maxDelayNanos > 0 || mean > INLINE_MAX_NANOS
                || !full && System.nanoTime() - lastRunEnd < mean) {
            return submit(windows);
        }
        lock.lock();
        try {
            if (closed || running > 0 || !queue.isEmpty()) {
                return submit(windows);
            }
            running++;
            busy++;
        } finally {
            lock.unlock();
        }
        Pending p = new Pending(windows);
        Batcher outer = DRAINING.get();
        DRAINING.set(this);
        try {
            run(new ArrayList<>(List.of(p)));
        } finally {
            DRAINING.set(outer);
            handOver();
        }
        return p.result;
    }

    /** Ends a run on the caller's thread: what queued meanwhile goes to a worker, which takes over its count. */
    private void handOver() {
        boolean startDrain;
        lock.lock();
        try {
            busy--;
            startDrain = !queue.isEmpty();
            if (!startDrain) {
                running--;
                drained.signalAll();
            }
        } finally {
            lock.unlock();
        }
        if (startDrain) {
            try {
                workers.execute(this::drain);
            } catch (RejectedExecutionException e) {
                refused(null).forEach(q -> q.result.completeExceptionally(new ApiException(503, "the server is stopping")));
            }
        }
    }

    /** Takes requests that no one waits for any more out of the queue. */
    private void withdraw(List<Pending> pending) {
        lock.lock();
        try {
            queue.removeAll(pending);
        } finally {
            lock.unlock();
        }
    }

    private Pending enqueue(Pending p) {
        boolean startDrain = false;
        lock.lock();
        try {
            if (closed) {
                throw new ApiException(503, "the model is being unloaded");
            }
            if (queue.size() >= maxQueue) {
                throw new QueueFullException("queue full (" + maxQueue + " requests waiting, --max-queue)");
            }
            queue.addLast(p);
            arrived.signal();
            // Another drain only when the ones gathering now cannot take all that waits; never more than threads.
            if (running < threads && queue.size() > running - busy) {
                running++;
                startDrain = true;
            }
        } finally {
            lock.unlock();
        }
        if (startDrain) {
            try {
                workers.execute(this::drain);
            } catch (RejectedExecutionException e) {
                refused(p);
                throw new ApiException(503, "the server is stopping");
            }
        }
        return p;
    }

    /**
     * Counts out a drain the pool refused (it is stopping) and takes {@code only} out of the queue, or everything
     * queued when {@code only} is null; returns what it took.
     */
    private List<Pending> refused(Pending only) {
        lock.lock();
        try {
            List<Pending> taken = only == null ? new ArrayList<>(queue) : List.of(only);
            queue.removeAll(taken);
            running--;
            drained.signalAll();
            return taken;
        } finally {
            lock.unlock();
        }
    }

    private void drain() {
        Batcher outer = DRAINING.get();
        DRAINING.set(this);
        boolean ran = false;
        try {
            while (true) {
                List<Pending> batch = next(ran);
                if (batch == null) {
                    return;
                }
                ran = true;
                run(batch);
            }
        } catch (InterruptedException e) {
            // The pool is being shut down: the server is stopping, and closing batchers waited for their drains.
            lock.lock();
            try {
                running--;
                busy -= ran ? 1 : 0;
                drained.signalAll();
            } finally {
                lock.unlock();
            }
            Thread.currentThread().interrupt();
        } finally {
            DRAINING.set(outer);
        }
    }

    /**
     * Takes the oldest request and every queued one of the same length that fits, waiting for company if asked to;
     * null, with the drain counted out, when nothing is queued.
     */
    private List<Pending> next(boolean wasBusy) throws InterruptedException {
        lock.lock();
        try {
            if (wasBusy) {
                busy--;
            }
            if (queue.isEmpty()) {
                // Counted out under the lock that enqueue counts in under, so no request is left without a drain.
                running--;
                drained.signalAll();
                return null;
            }
            Pending first = queue.pollFirst();
            List<Pending> batch = new ArrayList<>();
            batch.add(first);
            int rows = first.windows.count();
            long deadline = first.enqueued + maxDelayNanos;
            while (true) {
                rows = gather(batch, first, rows);
                long wait = deadline - System.nanoTime();
                if (rows >= maxBatch || wait <= 0 || closed) {
                    break;
                }
                arrived.awaitNanos(wait);
            }
            busy++;
            return batch;
        } finally {
            lock.unlock();
        }
    }

    private int gather(List<Pending> batch, Pending first, int rows) {
        for (Iterator<Pending> it = queue.iterator(); it.hasNext() && rows < maxBatch; ) {
            Pending p = it.next();
            if (p.fits(first) && rows + p.windows.count() <= maxBatch) {
                it.remove();
                batch.add(p);
                rows += p.windows.count();
            }
        }
        return rows;
    }

    private void run(List<Pending> batch) {
        // A request that timed out meanwhile was cancelled: no need to compute its answer.
        batch.removeIf(p -> p.result.isDone());
        if (batch.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        List<WindowBatch> parts = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            parts.add(p.windows);
            meters.queueTime.record(start - p.enqueued, TimeUnit.NANOSECONDS);
        }
        try {
            WindowBatch merged = WindowBatch.concat(parts);
            int rows = merged.count();
            float[][] out = runner.run(merged);
            long took = System.nanoTime() - start;
            meters.computeTime.record(took, TimeUnit.NANOSECONDS);
            long mean = meanRunNanos;
            meanRunNanos = mean == Long.MAX_VALUE ? took : mean + (took - mean) / 8;
            lastRunEnd = start + took;
            meters.batchSize.record(rows);
            int k = 0;
            for (Pending p : batch) {
                p.result.complete(java.util.Arrays.copyOfRange(out, k, k + p.windows.count()));
                k += p.windows.count();
            }
        } catch (Exception | Error e) {
            for (Pending p : batch) {
                p.result.completeExceptionally(e);
            }
        }
    }

    /**
     * Stops taking requests; the drains finish what is queued, then end, and only then may the session they run on
     * close. Never waits for the calling thread itself: a worker that closes its own batcher (the last request of a
     * retired version answered on it) would wait for itself.
     */
    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            arrived.signalAll();
            if (DRAINING.get() == this) {
                return;
            }
            long left = TimeUnit.SECONDS.toNanos(30);
            while (running > 0 && left > 0) {
                left = drained.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }
}
