package org.lstmcast.serve;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.Ort;
import org.lstmcast.forecast.WindowBatch;
import org.lstmcast.onnx.ModelReport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One loaded version of a model: it owns the ONNX Runtime session and the batcher, and borrows the meters of its
 * folder. Requests hold it between {@link #acquire()} and {@link #release()}; once retired it closes when the last
 * request lets go, on the registry's closing thread, so an unload never cuts a request short and never makes the
 * thread that answered the last request (a batcher worker, the JDK's timeout thread) wait for the close.
 */
public final class ModelVersion {
    private static final Logger LOG = LoggerFactory.getLogger(ModelVersion.class);

    enum State { READY, UNLOADING }

    public final String name;
    public final long version;
    public final Path file;
    public final ModelReport report;
    public final String provider;
    /** How to forecast with it, or null when it serves the inference protocol only. */
    public final ForecastSpec spec;
    /** Why it cannot forecast, when {@link #spec} is null. */
    public final String notForecasting;
    /** Its calibrated prediction intervals, from its metadata or forecast.json; null when it has none. */
    public final Intervals intervals;
    /** The session's outputs, in its order. */
    public final List<String> outputNames;
    /** Its inputs and outputs, read once: listing must not touch a closing session. */
    public final List<TensorDescription> inputs;
    public final List<TensorDescription> outputs;
    /** The session's declared inputs, read once: each ONNX Runtime query makes its objects anew, natively. */
    public final Map<String, NodeInfo> inputInfo;
    public final VersionMeters meters;
    /** The warm-up run as it loaded, or null when none ran (turned off, or not a forecaster). */
    public final Warmup warmup;
    /**
     * Whether inference-protocol calls on the forecast input go through the batcher: the model's one input is
     * batch-first, no forecast.json scaling wraps it (the protocol serves the model as it is) and the forecast
     * output is [batch, horizon], exactly what a batcher run returns.
     */
    public final boolean batchesInference;
    private final OrtSession session;
    private final OnnxForecaster forecaster;
    private final Batcher batcher;
    private final Executor closer;
    private final AtomicInteger holders = new AtomicInteger(1);
    private final AtomicBoolean retired = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile State state = State.READY;
    /** When a request last took it, for least-recently-used eviction. */
    private volatile long lastUsed = System.nanoTime();

    private ModelVersion(String name, long version, Path file, ModelReport report, String provider, ForecastSpec spec,
                         String notForecasting, OrtSession session, OnnxForecaster forecaster, Batcher batcher,
                         VersionMeters meters, Executor closer, ServedIntervals served, Warmup warmup)
            throws OrtException {
        this.name = name;
        this.warmup = warmup;
        this.intervals = served.intervals();
        // Only the file's own intervals are the ones its interval outputs apply; forecast.json's may differ.
        boolean intervalsFromFile = served.intervals() != null && served.fromFile();
        this.version = version;
        this.file = file;
        this.report = report;
        this.provider = provider;
        this.spec = spec;
        this.notForecasting = notForecasting;
        this.session = session;
        this.forecaster = forecaster;
        this.batcher = batcher;
        this.meters = meters;
        this.closer = closer;
        this.inputInfo = Collections.unmodifiableMap(new LinkedHashMap<>(session.getInputInfo()));
        this.inputs = TensorDescription.of(inputInfo);
        this.outputs = TensorDescription.of(session.getOutputInfo());
        this.outputNames = List.copyOf(session.getOutputNames());
        // The forecast alone, or with the interval outputs an lstmcast export adds: those are computed from the
        // batched forecasts exactly as the graph computes them (Inference.bounds).
        boolean forecastOutputs = outputNames.equals(List.of(spec == null ? "" : spec.outputName()))
                || intervalsFromFile && outputNames.equals(List.of(spec.outputName(), Intervals.LOWER, Intervals.UPPER));
        this.batchesInference = batcher != null && !spec.timeMajor() && forecaster.unscaled()
                && inputInfo.size() == 1 && forecastOutputs
                && session.getOutputInfo().get(spec.outputName()).getInfo() instanceof TensorInfo t
                && t.getShape().length == 2;
    }

    /**
     * Opens the session and everything that serves from it; if any step fails, what was opened is closed before the
     * failure is thrown.
     *
     * @param closer  where the version closes once retired and let go
     * @param workers the server's shared pool its batcher runs on
     */
    static ModelVersion load(String name, long version, Path file, ModelReport report, ModelSettings settings,
                             ServeConfig config, Device device, VersionMeters meters, Executor closer, Executor workers)
            throws OrtException {
        OrtSession session;
        String provider;
        try (OrtSession.SessionOptions options = Ort.sessionOptions()) {
            // Requests run in parallel on the shared batcher workers; one intra-op thread each uses the cores best,
            // and it is the calling thread itself, so a session starts no threads of its own (the sequential
            // execution mode has no inter-op pool either): threads do not grow with the models loaded.
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            provider = device.configure(options);
            session = Ort.environment().createSession(file.toString(), options);
        }
        Batcher batcher = null;
        Warmup warmup = null;
        try {
            Forecasting f = forecasting(session, report, settings);
            if (f.forecaster != null) {
                int maxBatch = settings.maxBatchSize();
                long fixedBatch = f.forecaster.fixedBatch();
                if (fixedBatch > 0) {
                    // A model exported with a fixed batch size runs exactly that many windows at a time.
                    maxBatch = (int) Math.min(maxBatch, fixedBatch);
                }
                // A run that outlasts the request timeout answers no one in time: it is stopped there.
                batcher = new Batcher(name + "-" + version, (Batcher.Run) f.forecaster::run, maxBatch,
                        settings.maxQueueDelayUs() * 1000, settings.maxQueue(), config.threads(),
                        TimeUnit.MILLISECONDS.toNanos(config.limits().requestTimeoutMs()), meters, workers);
                // Before the version exists for the registry: no ready check answers true until it has ended.
                if (config.warmup()) {
                    warmup = Warmup.run(name + " version " + version, f.forecaster,
                            Warmup.batchSizes(maxBatch, fixedBatch), windowSteps(session, f.forecaster.spec()), meters);
                }
            }
            ForecastSpec spec = f.forecaster == null ? null : f.forecaster.spec();
            return new ModelVersion(name, version, file, report, provider, spec, f.problem, session, f.forecaster, batcher,
                    meters, closer, intervals(session, settings, spec, file), warmup);
        } catch (OrtException | RuntimeException | Error e) {
            if (batcher != null) {
                batcher.close();
            }
            session.close();
            throw e;
        }
    }

    /**
     * The steps of a window that forecasts on this version's forecast route when it takes one column: its lookback, or
     * 30 where it takes windows of any length; -1 for a model that does not forecast or reads several columns.
     */
    public int univariateWindowSteps() {
        if (spec == null || spec.features().size() > 1) {
            return -1;
        }
        return spec.lookback() > 0 ? spec.lookback() : 30;
    }

    private record Forecasting(OnnxForecaster forecaster, String problem) {
    }

    /**
     * The length of the made-up windows a warm-up runs: the lookback, or for a model that takes windows as sent, the
     * sequence length its input declares, or a few steps when that is free too, as the forecaster's own test run has.
     */
    private static int windowSteps(OrtSession session, ForecastSpec spec) throws OrtException {
        if (spec.lookback() > 0) {
            return spec.lookback();
        }
        if (session.getInputInfo().get(spec.inputName()).getInfo() instanceof TensorInfo t
                && t.getShape().length > spec.sequenceAxis() && t.getShape()[spec.sequenceAxis()] > 0) {
            return (int) t.getShape()[spec.sequenceAxis()];
        }
        return 4;
    }

    /** The intervals a version serves (null for none), and whether they are the file's own rather than forecast.json's. */
    private record ServedIntervals(Intervals intervals, boolean fromFile) {
        static final ServedIntervals NONE = new ServedIntervals(null, false);
    }

    /**
     * forecast.json's intervals, else the file's own; none for a model that cannot forecast, and none, with a
     * warning, when they are malformed or calibrated for another horizon: the forecasts still serve.
     */
    private static ServedIntervals intervals(OrtSession session, ModelSettings settings, ForecastSpec spec, Path file) {
        if (spec == null) {
            return ServedIntervals.NONE;
        }
        ServedIntervals found;
        if (settings.forecast() != null && settings.forecast().intervals() != null) {
            found = new ServedIntervals(settings.forecast().intervals(), false);
        } else {
            try {
                found = new ServedIntervals(Intervals.fromMetadata(session.getMetadata().getCustomMetadata()), true);
            } catch (OrtException | IllegalArgumentException e) {
                LOG.warn("{}: its prediction intervals are not used: {}", file, e.getMessage());
                return ServedIntervals.NONE;
            }
        }
        if (found.intervals() != null && found.intervals().horizon() != spec.horizon()) {
            LOG.warn("{}: its prediction intervals cover {} steps and the model forecasts {}; they are not used", file,
                    found.intervals().horizon(), spec.horizon());
            return ServedIntervals.NONE;
        }
        return found;
    }

    /**
     * The forecaster for the session, proven by a test run, or the reason there is none. A model without a declared
     * layout whose test run fails batch-first is tried time-major before it is refused.
     */
    private static Forecasting forecasting(OrtSession session, ModelReport report, ModelSettings settings)
            throws OrtException {
        ForecastSpec spec = report.forecast();
        if (spec == null) {
            return new Forecasting(null, String.join("; ", report.problems()));
        }
        ModelSettings.ForecastOverride override = settings.forecast();
        if (override != null) {
            spec = override.apply(spec);
        }
        OnnxForecaster forecaster = OnnxForecaster.over(session, spec, override == null ? null : override.scaling());
        String problem = forecaster.probe();
        if (problem == null) {
            return new Forecasting(forecaster, null);
        }
        boolean layoutKnown = override != null && override.timeMajor() != null;
        if (!layoutKnown) {
            OnnxForecaster other = OnnxForecaster.over(session, spec.withTimeMajor(!spec.timeMajor()),
                    override == null ? null : override.scaling());
            if (other.probe() == null) {
                LOG.info("{}: the model reads its input {}, found by a test run", report.file(),
                        other.spec().timeMajor() ? "time-major [sequence, batch, features]" : "batch-first [batch, sequence, features]");
                return new Forecasting(other, null);
            }
        }
        return new Forecasting(null, "cannot forecast with it: " + problem + "; if its input is laid out otherwise or "
                + "needs scaling, say so in forecast.json beside its versions, e.g. {\"layout\": \""
                + (spec.timeMajor() ? "batch_major" : "time_major") + "\", \"lookback\": 30}; the inference protocol "
                + "serves it as it is");
    }

    public OrtSession session() {
        return session;
    }

    public boolean canForecast() {
        return batcher != null;
    }

    /**
     * Forecasts through the batcher: concurrent requests share model runs, and no thread waits for them. A run not
     * answered by the deadline fails the forecast with a 503, and the batcher skips what has not started. When the
     * batcher is idle and the model fast, a run is made on the calling thread instead ({@link Batcher#submitOrRun}): a
     * lone request then costs no hand-off to a worker and back, which beside a busy process on two cores took the
     * 99.9th percentile at concurrency 1 from 3.6 ms to 2.2 ms (docs/BENCHMARKS.md, "Tail latency at concurrency 1").
     */
    public CompletableFuture<double[][]> forecast(List<double[][]> windows, int horizon, long timeoutMs) {
        return forecast(windows, horizon, timeoutMs, null);
    }

    /**
     * @param gaveUp completed exceptionally (a {@link Batcher.GaveUp}) when the caller gives the forecast up: its runs
     *               not yet started leave the batcher's queue; null when the caller never does
     */
    public CompletableFuture<double[][]> forecast(List<double[][]> windows, int horizon, long timeoutMs,
                                                  CompletableFuture<?> gaveUp) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        return forecaster.forecastAsync(windows, horizon,
                merged -> withTimeout(batcher.submitOrRun(merged), deadline, timeoutMs, gaveUp));
    }

    /**
     * One model run on windows {@code [batch][steps][features]} through the batcher, shared with concurrent requests;
     * fails with a 503 past the deadline.
     */
    public CompletableFuture<float[][]> runBatched(WindowBatch windows, long timeoutMs) {
        return runBatched(windows, timeoutMs, null);
    }

    /** As {@link #runBatched(WindowBatch, long)}, withdrawn when {@code gaveUp} completes exceptionally. */
    CompletableFuture<float[][]> runBatched(WindowBatch windows, long timeoutMs, CompletableFuture<?> gaveUp) {
        return runBatched(windows, System.nanoTime() + timeoutMs * 1_000_000, timeoutMs, gaveUp);
    }

    /**
     * {@link #runBatched(WindowBatch, long)}, run on the calling thread when the batcher is idle and the model fast
     * ({@link Batcher#submitOrRun}); for callers on a Netty event loop, where a worker's answer costs a second hand-off.
     */
    public CompletableFuture<float[][]> runBatchedOrHere(WindowBatch windows, long timeoutMs) {
        return runBatchedOrHere(windows, timeoutMs, null);
    }

    /** As {@link #runBatchedOrHere(WindowBatch, long)}, withdrawn when {@code gaveUp} completes exceptionally. */
    CompletableFuture<float[][]> runBatchedOrHere(WindowBatch windows, long timeoutMs, CompletableFuture<?> gaveUp) {
        return withTimeout(batcher.submitOrRun(windows), System.nanoTime() + timeoutMs * 1_000_000, timeoutMs, gaveUp);
    }

    /** @param deadline in {@link System#nanoTime()} terms; a forecast's several runs share one */
    private CompletableFuture<float[][]> runBatched(WindowBatch windows, long deadline, long timeoutMs,
                                                    CompletableFuture<?> gaveUp) {
        return withTimeout(batcher.submit(windows), deadline, timeoutMs, gaveUp);
    }

    /**
     * The batcher's own future is the one completed early, by the timeout or by the caller giving up: completing it is
     * what withdraws the run from the queue (the futures derived from it do not reach back).
     */
    private static CompletableFuture<float[][]> withTimeout(CompletableFuture<float[][]> run, long deadline, long timeoutMs,
                                                            CompletableFuture<?> gaveUp) {
        if (gaveUp != null) {
            gaveUp.whenComplete((v, e) -> {
                if (e != null) {
                    run.completeExceptionally(e);
                }
            });
        }
        return run.orTimeout(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(e instanceof TimeoutException
                        ? new ApiException(503, "no answer within " + timeoutMs + " ms (--request-timeout-ms)") : e));
    }

    /** Counts one answered request of {@code endpoint} and its latency. */
    public void recordRequest(String endpoint, long nanos, boolean ok) {
        meters.recordRequest(endpoint, nanos, ok);
    }

    boolean acquire() {
        while (true) {
            int h = holders.get();
            if (h == 0 || state != State.READY) {
                return false;
            }
            if (holders.compareAndSet(h, h + 1)) {
                lastUsed = System.nanoTime();
                return true;
            }
        }
    }

    /** {@link System#nanoTime()} of the last {@link #acquire()}, or of the load. */
    long lastUsed() {
        return lastUsed;
    }

    /** Whether it serves and no request holds it now. */
    boolean idle() {
        return state == State.READY && holders.get() == 1;
    }

    /**
     * Retires it only if no request holds it, atomically with respect to {@link #acquire()}: an evicted version never
     * has a request cut short, and one that a request took a moment ago is kept.
     *
     * @return whether it was retired (and will close on the closing thread)
     */
    boolean retireIfIdle() {
        if (!retired.compareAndSet(false, true)) {
            return false;
        }
        if (!holders.compareAndSet(1, 0)) {
            retired.set(false);
            return false;
        }
        state = State.UNLOADING;
        closer.execute(this::close);
        return true;
    }

    public void release() {
        if (holders.decrementAndGet() == 0) {
            closer.execute(this::close);
        }
    }

    /** Takes the version out of service; it closes once the requests that hold it are answered. */
    void retire() {
        if (retired.compareAndSet(false, true)) {
            state = State.UNLOADING;
            release();
        }
    }

    State state() {
        return state;
    }

    boolean isClosed() {
        return closed.get();
    }

    /** Closes the batcher, then the session; once only, whoever calls. */
    void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (batcher != null) {
            batcher.close();
        }
        try {
            session.close();
        } catch (OrtException e) {
            LOG.warn("closing {} version {}: {}", name, version, e.getMessage());
        }
    }
}
