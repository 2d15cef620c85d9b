package org.lstmcast.serve;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The meters of one model version folder ({@code model}, {@code version} tags). They belong to the folder, not to one
 * load of its file: a reload hands them to the new {@link ModelVersion}, so the series go on across reloads, and they
 * are removed only when the folder leaves the repository. Micrometer gives back the existing meter for a name and tags
 * already registered, so two owners of one set would each remove the other's.
 */
public final class VersionMeters implements AutoCloseable {
    private final MeterRegistry registry;
    private final Tags tags;
    private final List<Meter> owned = new CopyOnWriteArrayList<>();
    private final Map<String, Timer> timers = new ConcurrentHashMap<>();
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    private volatile IntSupplier queueDepth = () -> 0;
    /** Latencies since the last {@link #live()} window closed, in microseconds. */
    private final org.HdrHistogram.Recorder recent = new org.HdrHistogram.Recorder(3);
    private long windowStart = System.nanoTime();
    private long batchesBefore;
    private double windowsBefore;
    private Live lastWindow;
    private volatile boolean closed;
    final DistributionSummary batchSize;
    final Timer queueTime;
    final Timer computeTime;
    /** Requests taken out of the queue before any run because their client went away, and because time ran out. */
    private final Counter withdrawnCancelled;
    private final Counter withdrawnExpired;
    private final Counter runsTerminated;
    /** Runs made by the warm-up of each load, outside the request figures. */
    final Counter warmupRuns;
    /** Runs made on the thread of the request that needed them, the batcher being idle (Batcher.submitOrRun). */
    final Counter runsOnCaller;

    VersionMeters(MeterRegistry registry, String model, long version) {
        this.registry = registry;
        this.tags = Tags.of(Tag.of("model", model), Tag.of("version", Long.toString(version)));
        batchSize = own(DistributionSummary.builder("lstmcast_batch_size").description("Windows per model run").tags(tags)
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512).register(registry));
        queueTime = own(Timer.builder("lstmcast_queue_seconds").description("Time a request waited for a model run")
                .tags(tags).register(registry));
        computeTime = own(Timer.builder("lstmcast_compute_seconds").description("Time of one model run").tags(tags)
                .register(registry));
        // Registered at once, at zero, so that a scrape shows the series before the first one happens.
        withdrawnCancelled = own(Counter.builder("lstmcast_requests_withdrawn_total")
                .description("Requests given up before they ran: the client went away (cancelled) or their deadline passed (expired)")
                .tags(tags).tag("reason", "cancelled").register(registry));
        withdrawnExpired = own(Counter.builder("lstmcast_requests_withdrawn_total")
                .description("Requests given up before they ran: the client went away (cancelled) or their deadline passed (expired)")
                .tags(tags).tag("reason", "expired").register(registry));
        runsTerminated = own(Counter.builder("lstmcast_runs_terminated_total")
                .description("Model runs stopped natively: every request in them given up, or over the limit for one run")
                .tags(tags).register(registry));
        warmupRuns = own(Counter.builder("lstmcast_warmup_runs_total")
                .description("Model runs made to warm a version up as it loads").tags(tags).register(registry));
        runsOnCaller = own(Counter.builder("lstmcast_runs_on_caller_total")
                .description("Model runs made on the thread of the request itself, the batcher being idle and the model fast")
                .tags(tags).register(registry));
        // A strong reference: the gauge reads whichever batcher serves now, through this object.
        own(Gauge.builder("lstmcast_queue_depth", this, m -> m.queueDepth.getAsInt())
                .description("Requests waiting for a model run").tags(tags).strongReference(true).register(registry));
    }

    /** The queue that the gauge reports from now on: the serving batcher's. */
    void queueDepth(IntSupplier depth) {
        queueDepth = depth;
    }

    /** Counts one request given up before it ran: its deadline passed ({@code expired}) or its client went away. */
    public void withdrawn(boolean expired) {
        (expired ? withdrawnExpired : withdrawnCancelled).increment();
    }

    void runTerminated() {
        runsTerminated.increment();
    }

    /** Requests withdrawn so far because their client went away, because time ran out, and runs stopped. */
    public record GivenUp(long cancelled, long expired, long runsTerminated) {
    }

    public GivenUp givenUp() {
        return new GivenUp((long) withdrawnCancelled.count(), (long) withdrawnExpired.count(), (long) runsTerminated.count());
    }

    /** Counts one answered request of {@code endpoint} and its latency. */
    void recordRequest(String endpoint, long nanos, boolean ok) {
        if (closed) {
            // The folder is gone and its series with it; a late answer must not register them again.
            return;
        }
        timers.computeIfAbsent(endpoint, e -> own(Timer.builder("lstmcast_request_seconds")
                .description("Request latency, parse to answer").tags(tags).tag("endpoint", e).register(registry)))
                .record(nanos, TimeUnit.NANOSECONDS);
        recent.recordValue(Math.max(0, nanos / 1000));
        String outcome = ok ? "success" : "failure";
        counters.computeIfAbsent(endpoint + "/" + outcome, k -> own(Counter.builder("lstmcast_requests_total")
                .description("Requests by outcome").tags(tags).tag("endpoint", endpoint).tag("outcome", outcome)
                .register(registry))).increment();
    }

    /**
     * Figures of the last few seconds, as the console shows them: null latencies and batch size when nothing ran.
     *
     * @param requestsPerSecond answered requests, every endpoint
     * @param queueDepth        requests waiting now
     */
    public record Live(double requestsPerSecond, Double p50Ms, Double p99Ms, Double meanBatchSize, int queueDepth) {
    }

    /** The figures of the last window of at least two seconds; a call after that closes the window and starts one. */
    public synchronized Live live() {
        long now = System.nanoTime();
        if (lastWindow == null || now - windowStart >= 2_000_000_000L) {
            org.HdrHistogram.Histogram h = recent.getIntervalHistogram();
            double seconds = Math.max(1e-3, (now - windowStart) / 1e9);
            long batches = batchSize.count();
            double windows = batchSize.totalAmount();
            long n = h.getTotalCount();
            lastWindow = new Live(n / seconds, n == 0 ? null : h.getValueAtPercentile(50) / 1000.0,
                    n == 0 ? null : h.getValueAtPercentile(99) / 1000.0,
                    batches == batchesBefore ? null : (windows - windowsBefore) / (batches - batchesBefore), 0);
            windowStart = now;
            batchesBefore = batches;
            windowsBefore = windows;
        }
        return new Live(lastWindow.requestsPerSecond(), lastWindow.p50Ms(), lastWindow.p99Ms(),
                lastWindow.meanBatchSize(), queueDepth.getAsInt());
    }

    private <M extends Meter> M own(M meter) {
        owned.add(meter);
        return meter;
    }

    /** Removes every series of this folder from the registry. */
    @Override
    public void close() {
        closed = true;
        owned.forEach(registry::remove);
        owned.clear();
    }
}
