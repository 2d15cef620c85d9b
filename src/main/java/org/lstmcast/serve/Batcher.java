package org.lstmcast.serve;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
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
 *
 * <p>A request whose caller gives up (its future completed early: a timeout, a cancelled gRPC call, a REST client
 * gone) leaves the queue at once if it has not started, and is counted as withdrawn. Every run has its own
 * {@link OrtSession.RunOptions}, through which a watchdog stops it natively (see {@link Flight}).
 */
public final class Batcher implements AutoCloseable {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Batcher.class);

    /** Thrown by {@link #submit} when the queue is full. */
    static final class QueueFullException extends RuntimeException {
        QueueFullException(String message) {
            super(message);
        }
    }

    /**
     * Why a request was given up before its answer: its deadline passed ({@code expired}, 504, gRPC's
     * DEADLINE_EXCEEDED) or its client went away (499, gRPC's CANCELLED); nobody reads the answer in the second case.
     */
    public static final class GaveUp extends ApiException {
        final boolean expired;

        private GaveUp(boolean expired, String message) {
            super(expired ? 504 : 499, message);
            this.expired = expired;
        }

        public static GaveUp expired(String message) {
            return new GaveUp(true, message);
        }

        public static GaveUp cancelled(String message) {
            return new GaveUp(false, message);
        }

        /** Whether {@code error} gives a request up because time ran out; null when it is no giving up at all. */
        static Boolean reason(Throwable error) {
            Throwable e = error instanceof CompletionException && error.getCause() != null
                    ? error.getCause() : error;
            if (e instanceof GaveUp g) {
                return g.expired;
            }
            if (e instanceof TimeoutException) {
                return true;
            }
            return e instanceof CancellationException ? Boolean.FALSE : null;
        }
    }

    /** A model run on windows of equal length; the options are the run's own, closed by the batcher after it. */
    @FunctionalInterface
    interface Run {
        float[][] run(WindowBatch windows, OrtSession.RunOptions options) throws OrtException;
    }

    private static final int QUEUED = 0;
    private static final int RUNNING = 1;
    private static final int GONE = 2;

    private static final class Pending {
        final WindowBatch windows;
        final CompletableFuture<float[][]> result = new CompletableFuture<>();
        final long enqueued = System.nanoTime();
        /** QUEUED until a run takes it (RUNNING) or its caller gives it up first (GONE); each request is one or the other. */
        final AtomicInteger state = new AtomicInteger(QUEUED);

        Pending(WindowBatch windows) {
            this.windows = windows;
        }

        /**
         * Whether it joins the run about to start. One given up meanwhile stays QUEUED, so that the hook of its
         * future, which may still be on its way, withdraws and counts it.
         */
        boolean start() {
            return !result.isDone() && state.compareAndSet(QUEUED, RUNNING);
        }

        /** Whether its windows can share a model run with {@code other}'s. */
        boolean fits(Pending other) {
            return windows.steps() == other.windows.steps() && windows.features() == other.windows.features();
        }
    }

    private final Run runner;
    /** Nanoseconds a run may last before it is stopped; 0 for no limit. */
    private final long runLimitNanos;
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
        this(name, (Run) (windows, options) -> runner.run(windows), maxBatch, maxDelayNanos, maxQueue, threads, 0,
                meters, workers);
    }

    /**
     * @param runLimitNanos how long one run may last before it is stopped natively, whoever still waits for it; 0 for
     *                      no limit
     */
    Batcher(String name, Run runner, int maxBatch, long maxDelayNanos, int maxQueue, int threads, long runLimitNanos,
            VersionMeters meters, Executor workers) {
        this.runner = runner;
        this.runLimitNanos = Math.max(0, runLimitNanos);
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
                    withdraw(List.of(p), error);
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
                withdraw(queued, error);
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
                    withdraw(List.of(part), null);
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
        meters.runsOnCaller.increment();
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

    /**
     * Takes requests that no one waits for any more out of the queue, those of them that no run has taken, and counts
     * them as one withdrawn request (the parts of one request are withdrawn together) when {@code why} gives it up.
     */
    private void withdraw(List<Pending> pending, Throwable why) {
        boolean any = false;
        for (Pending p : pending) {
            any |= p.state.compareAndSet(QUEUED, GONE);
        }
        if (!any) {
            return;
        }
        lock.lock();
        try {
            queue.removeAll(pending);
            // A drain waiting for company with this request in hand stops waiting for it.
            arrived.signalAll();
        } finally {
            lock.unlock();
        }
        Boolean expired = why == null ? null : GaveUp.reason(why);
        if (expired != null) {
            meters.withdrawn(expired);
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
            while (true) {
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
                    // Requests given up while held here are out of the queue already: no waiting on for them.
                    if (batch.removeIf(p -> p.result.isDone())) {
                        if (batch.isEmpty()) {
                            break;
                        }
                        first = batch.get(0);
                        rows = batch.stream().mapToInt(p -> p.windows.count()).sum();
                        deadline = first.enqueued + maxDelayNanos;
                    }
                }
                if (!batch.isEmpty()) {
                    busy++;
                    return batch;
                }
            }
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
        // A request given up meanwhile (a timeout, a cancel) is withdrawn by its future's hook: no answer to compute.
        batch.removeIf(p -> !p.start());
        if (batch.isEmpty()) {
            return;
        }
        long start = System.nanoTime();
        List<WindowBatch> parts = new ArrayList<>(batch.size());
        for (Pending p : batch) {
            parts.add(p.windows);
            meters.queueTime.record(start - p.enqueued, TimeUnit.NANOSECONDS);
        }
        Flight flight = null;
        try (OrtSession.RunOptions options = new OrtSession.RunOptions()) {
            WindowBatch merged = WindowBatch.concat(parts);
            int rows = merged.count();
            flight = watch(options, runLimitNanos, () -> batch.stream().allMatch(p -> p.result.isDone()));
            float[][] out;
            try (Flight watched = flight) {
                out = runner.run(merged, options);
            }
            long took = System.nanoTime() - start;
            meters.computeTime.record(took, TimeUnit.NANOSECONDS);
            long mean = meanRunNanos;
            meanRunNanos = mean == Long.MAX_VALUE ? took : mean + (took - mean) / 8;
            lastRunEnd = start + took;
            meters.batchSize.record(rows);
            int k = 0;
            for (Pending p : batch) {
                p.result.complete(Arrays.copyOfRange(out, k, k + p.windows.count()));
                k += p.windows.count();
            }
        } catch (Exception | Error e) {
            Throwable error = e;
            if (flight != null && flight.stopped()) {
                meters.runTerminated();
                // Given up by everyone, it has no one to tell.
                error = flight.overran() ? flight.overrun() : e;
            }
            for (Pending p : batch) {
                p.result.completeExceptionally(error);
            }
        }
    }

    /** Runs in progress, of every batcher, for the watchdog. */
    private static final Set<Flight> FLIGHTS = ConcurrentHashMap.newKeySet();
    /** How often the watchdog looks at the runs in progress; a stop takes effect at the next node of the graph. */
    private static final long WATCH_MILLIS = 20;

    static {
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "batcher-watchdog");
            t.setDaemon(true);
            return t;
        });
        watchdog.scheduleWithFixedDelay(() -> {
            long now = System.nanoTime();
            for (Flight f : FLIGHTS) {
                f.check(now);
            }
        }, WATCH_MILLIS, WATCH_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Watches a run about to start under {@code options}, which its caller owns and closes after closing the flight
     * returned. The rule for stopping a run (setting its terminate flag, so that ONNX Runtime gives up at the graph's
     * next node): a run may hold several requests, and it is stopped only when every one of them has been given up
     * ({@code gaveUp}), since one caller's cancel must not fail the others' answers, or when it has lasted longer
     * than {@code limitNanos} (the server's request timeout), after which its answer would come too late for anyone.
     */
    static Flight watch(OrtSession.RunOptions options, long limitNanos, BooleanSupplier gaveUp) {
        Flight f = new Flight(options, System.nanoTime(), limitNanos, gaveUp);
        FLIGHTS.add(f);
        return f;
    }

    /**
     * A run in progress, as {@link #watch} sees it. The flag is set under the flight's lock, and {@link #close()}
     * takes that lock before the run's code closes the options, so that they are never touched once closed.
     */
    static final class Flight implements AutoCloseable {
        private enum Stop { GAVE_UP, LIMIT }

        private final OrtSession.RunOptions options;
        private final long start;
        private final long limitNanos;
        private final BooleanSupplier gaveUp;
        private boolean landed;
        private volatile Stop stopped;

        private Flight(OrtSession.RunOptions options, long start, long limitNanos, BooleanSupplier gaveUp) {
            this.options = options;
            this.start = start;
            this.limitNanos = limitNanos;
            this.gaveUp = gaveUp;
        }

        private synchronized void check(long now) {
            if (landed || stopped != null) {
                return;
            }
            Stop why = limitNanos > 0 && now - start > limitNanos ? Stop.LIMIT : gaveUp.getAsBoolean() ? Stop.GAVE_UP : null;
            if (why == null) {
                return;
            }
            try {
                options.setTerminate(true);
                stopped = why;
            } catch (OrtException e) {
                LOG.warn("could not stop a model run: {}", e.getMessage());
            }
        }

        /** Whether it was stopped, for either reason; once closed, a failed run's failure is then the stop's. */
        boolean stopped() {
            return stopped != null;
        }

        /** Whether it was stopped for lasting too long. */
        boolean overran() {
            return stopped == Stop.LIMIT;
        }

        /** What the callers of a run stopped for lasting too long are told. */
        ApiException overrun() {
            return new ApiException(503, "the model run was stopped after " + TimeUnit.NANOSECONDS.toMillis(limitNanos)
                    + " ms, the longest a run may take (--request-timeout-ms)");
        }

        /** The run has ended: the watchdog lets go of it before its options close. */
        @Override
        public synchronized void close() {
            landed = true;
            FLIGHTS.remove(this);
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
