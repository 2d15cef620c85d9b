package org.lstmcast.serve;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.Ort;
import org.lstmcast.onnx.ModelReport;

/**
 * One loaded version of a model: its ONNX Runtime session (inside the forecaster), its batcher and its
 * description. Requests hold it between {@link #acquire()} and {@link #release()}; once retired it closes when the
 * last request lets go, so an unload never cuts a request short.
 */
final class ModelVersion {
    enum State { READY, UNLOADING }

    final String name;
    final long version;
    final Path file;
    final ModelReport report;
    final String provider;
    final ForecastSpec spec;
    private final OnnxForecaster forecaster;
    private final Batcher batcher;
    private final MeterRegistry metrics;
    private final Tags tags;
    private final AtomicInteger holders = new AtomicInteger(1);
    /** Request meters of this version, built once: registering a meter per request would cost a lookup each time. */
    private final java.util.Map<String, io.micrometer.core.instrument.Timer> timers = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, io.micrometer.core.instrument.Counter> counters = new java.util.concurrent.ConcurrentHashMap<>();
    private volatile State state = State.READY;

    private ModelVersion(String name, long version, Path file, ModelReport report, String provider, ForecastSpec spec,
                         OnnxForecaster forecaster, Batcher batcher, MeterRegistry metrics, Tags tags) {
        this.name = name;
        this.version = version;
        this.file = file;
        this.report = report;
        this.provider = provider;
        this.spec = spec;
        this.forecaster = forecaster;
        this.batcher = batcher;
        this.metrics = metrics;
        this.tags = tags;
    }

    static ModelVersion load(String name, long version, Path file, ModelReport report, ModelSettings settings,
                             ServeConfig config, Device device, MeterRegistry metrics) throws OrtException {
        OrtSession session;
        String provider;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            // Requests run in parallel on separate batcher workers; one intra-op thread each uses the cores best.
            options.setIntraOpNumThreads(1);
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            provider = device.configure(options);
            session = Ort.environment().createSession(file.toString(), options);
        }
        ForecastSpec spec = report.forecast();
        if (spec != null && settings.forecast() != null) {
            spec = settings.forecast().apply(spec);
        }
        OnnxForecaster forecaster = spec == null ? null : OnnxForecaster.of(session, spec,
                settings.forecast() == null ? null : settings.forecast().scaling(),
                settings.forecast() != null && settings.forecast().timeMajor());
        Tags tags = Tags.of(Tag.of("model", name), Tag.of("version", Long.toString(version)));
        Batcher batcher = forecaster == null ? null : new Batcher(name + "-" + version, forecaster::run,
                settings.maxBatchSize(), settings.maxQueueDelayUs() * 1000, settings.maxQueue(), config.threads(),
                metrics, tags);
        if (forecaster == null) {
            // A raw model (served by the inference protocol only) still needs its session closed with it.
            return new ModelVersion(name, version, file, report, provider, null, OnnxForecaster.of(session,
                    new ForecastSpec("-", "-", 0, 1, List.of("-"), "-", null, null), null, false), null, metrics, tags);
        }
        return new ModelVersion(name, version, file, report, provider, spec, forecaster, batcher, metrics, tags);
    }

    OrtSession session() {
        return forecaster.session();
    }

    boolean canForecast() {
        return batcher != null;
    }

    /**
     * Forecasts through the batcher: concurrent requests share model runs, and no thread waits for them. A run not
     * answered by the deadline fails the forecast with a 503, and the batcher skips it if it has not started.
     */
    CompletableFuture<double[][]> forecast(List<double[][]> windows, int horizon, long timeoutMs) {
        long deadline = System.nanoTime() + timeoutMs * 1_000_000;
        return forecaster.forecastAsync(windows, horizon, merged -> batcher.submit(merged)
                .orTimeout(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)
                .exceptionallyCompose(e -> CompletableFuture.failedFuture(e instanceof TimeoutException
                        ? new ApiException(503, "no answer within " + timeoutMs + " ms (--request-timeout-ms)") : e)));
    }

    /** Counts one answered request of {@code endpoint} and its latency. */
    void recordRequest(String endpoint, long nanos, boolean ok) {
        timers.computeIfAbsent(endpoint, e -> io.micrometer.core.instrument.Timer.builder("lstmcast_request_seconds")
                .description("Request latency, parse to answer").tags(tags).tag("endpoint", e).register(metrics))
                .record(nanos, java.util.concurrent.TimeUnit.NANOSECONDS);
        String outcome = ok ? "success" : "failure";
        counters.computeIfAbsent(endpoint + "/" + outcome, k -> io.micrometer.core.instrument.Counter
                .builder("lstmcast_requests_total").description("Requests by outcome").tags(tags)
                .tag("endpoint", endpoint).tag("outcome", outcome).register(metrics)).increment();
    }

    boolean acquire() {
        while (true) {
            int h = holders.get();
            if (h == 0 || state != State.READY) {
                return false;
            }
            if (holders.compareAndSet(h, h + 1)) {
                return true;
            }
        }
    }

    void release() {
        if (holders.decrementAndGet() == 0) {
            close();
        }
    }

    /** Takes the version out of service; it closes once the requests that hold it are answered. */
    void retire() {
        state = State.UNLOADING;
        release();
    }

    State state() {
        return state;
    }

    private void close() {
        if (batcher != null) {
            batcher.close();
        }
        try {
            forecaster.close();
        } catch (OrtException e) {
            // Closing a session that ran fine does not fail in practice; nothing more to do if it does.
        }
        for (Meter m : metrics.getMeters()) {
            if (m.getId().getTags().containsAll(tags.stream().toList()) && m.getId().getName().startsWith("lstmcast_")) {
                metrics.remove(m);
            }
        }
    }
}
