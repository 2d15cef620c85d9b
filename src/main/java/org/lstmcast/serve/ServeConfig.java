package org.lstmcast.serve;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How the server runs.
 *
 * @param threads batching workers per model version (each runs one model at a time)
 * @param apiKey  when set, every endpoint but the health checks needs {@code Authorization: Bearer <apiKey>}
 * @param strictReadiness whether {@code /v2/health/ready} also waits for every model in the repository to serve
 * @param grpc    the gRPC listener
 * @param modelControl    whether the repository is polled for changes or changed only on request
 * @param loadModels      in explicit mode, the models loaded at start ({@code *}: all of them)
 * @param preload         when polled, the models loaded at start ({@code *}: all of them, and every one that appears
 *                        later); the rest load on their first request. Null: {@code *} when the repository holds no
 *                        more versions than may be loaded, else none
 * @param maxLoaded       when above 0, the most versions loaded at once, the least recently used idle one evicted to
 *                        make room; 0: {@link Limits#maxModels()} bounds them, refusing beyond it, unless the
 *                        repository is served lazily, which evicts at that bound
 * @param console         whether the browser pages ({@code /}, {@code /models/<name>}, {@code /docs}) are served
 * @param warmup          whether each forecaster version, as it loads, runs every batch size its batcher forms on
 *                        made-up windows before it serves, so that no request pays for a first run of a shape
 */
public record ServeConfig(Path models, String host, int port, String device, int maxBatchSize, long maxQueueDelayUs,
                          int maxQueue, int threads, double pollSeconds, Limits limits, String apiKey,
                          boolean strictReadiness, Grpc grpc, ModelControl modelControl, List<String> loadModels,
                          List<String> preload, int maxLoaded, boolean console, boolean warmup) {

    /** Triton's model control modes: the repository polled for changes, or models loaded and unloaded on request. */
    public enum ModelControl { POLL, EXPLICIT }

    public ServeConfig {
        grpc = grpc == null ? Grpc.off() : grpc;
        modelControl = modelControl == null ? ModelControl.POLL : modelControl;
        loadModels = loadModels == null ? List.of() : List.copyOf(loadModels);
        preload = preload == null ? null : List.copyOf(preload);
    }

    public ServeConfig(Path models, String host, int port, String device, int maxBatchSize, long maxQueueDelayUs,
                       int maxQueue, int threads, double pollSeconds, Limits limits, String apiKey,
                       boolean strictReadiness, Grpc grpc, ModelControl modelControl, List<String> loadModels) {
        this(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds, limits, apiKey,
                strictReadiness, grpc, modelControl, loadModels, null, 0, true, true);
    }

    /**
     * The protocol extensions the server claims, in {@code GET /v2} and gRPC's ServerMetadata alike: the repository is
     * only watched, the watch extension only claimed, when it is polled.
     */
    public List<String> extensions() {
        List<String> extensions = new ArrayList<>(List.of("model_repository"));
        if (modelControl != ModelControl.EXPLICIT) {
            extensions.add("model_repository_watch");
        }
        extensions.add("binary_tensor_data");
        extensions.add("forecast");
        return List.copyOf(extensions);
    }

    /** The most versions loaded at once: {@link #maxLoaded} when set, else {@link Limits#maxModels()}. */
    public int loadBound() {
        return maxLoaded > 0 ? maxLoaded : limits.maxModels();
    }

    public ServeConfig withPreload(List<String> names) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, grpc, modelControl, loadModels, names, maxLoaded, console, warmup);
    }

    public ServeConfig withMaxLoaded(int n) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, grpc, modelControl, loadModels, preload, n, console, warmup);
    }

    /** Polling the repository, without gRPC. */
    public ServeConfig(Path models, String host, int port, String device, int maxBatchSize, long maxQueueDelayUs,
                       int maxQueue, int threads, double pollSeconds, Limits limits, String apiKey,
                       boolean strictReadiness) {
        this(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds, limits, apiKey,
                strictReadiness, Grpc.off(), ModelControl.POLL, List.of());
    }

    /**
     * @param port            0 picks a free port, {@link #OFF} serves no gRPC
     * @param maxMessageBytes largest request message; larger ones are refused with RESOURCE_EXHAUSTED
     */
    public record Grpc(int port, long maxMessageBytes) {
        public static final int OFF = -1;

        public static Grpc off() {
            return new Grpc(OFF, 16L << 20);
        }

        public boolean enabled() {
            return port != OFF;
        }
    }

    /** Polling the repository, without gRPC and strict readiness. */
    public ServeConfig(Path models, String host, int port, String device, int maxBatchSize, long maxQueueDelayUs,
                       int maxQueue, int threads, double pollSeconds, Limits limits, String apiKey) {
        this(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds, limits, apiKey,
                false);
    }

    /**
     * What one request or the whole server may take; each limit hit is answered with a message naming its flag.
     *
     * @param maxBodyBytes     largest request body
     * @param maxWindows       windows per forecast request
     * @param maxWindowLength  steps per window
     * @param maxHorizon       steps a forecast may ask for
     * @param maxModels        model versions loaded at once
     * @param requestTimeoutMs longest a request may wait for its model runs
     */
    public record Limits(long maxBodyBytes, int maxWindows, int maxWindowLength, int maxHorizon, int maxModels,
                         long requestTimeoutMs) {
        public static Limits defaults() {
            return new Limits(16L << 20, 4096, 100_000, 10_000, 256, 30_000);
        }
    }

    public static ServeConfig defaults(Path models) {
        return new ServeConfig(models, "127.0.0.1", 8080, "auto", 64, 0, 1024,
                Math.max(1, Runtime.getRuntime().availableProcessors()), 2.0, Limits.defaults(), null);
    }

    public ServeConfig withPort(int p) {
        return new ServeConfig(models, host, p, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, grpc, modelControl, loadModels, preload, maxLoaded, console, warmup);
    }

    public ServeConfig withLimits(Limits l) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                l, apiKey, strictReadiness, grpc, modelControl, loadModels, preload, maxLoaded, console, warmup);
    }

    public ServeConfig withApiKey(String key) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, key, strictReadiness, grpc, modelControl, loadModels, preload, maxLoaded, console, warmup);
    }

    public ServeConfig withStrictReadiness(boolean strict) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strict, grpc, modelControl, loadModels, preload, maxLoaded, console, warmup);
    }

    public ServeConfig withGrpc(Grpc g) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, g, modelControl, loadModels, preload, maxLoaded, console, warmup);
    }

    /** Explicit control with these models loaded at start, or polling when {@code mode} is POLL. */
    public ServeConfig withModelControl(ModelControl mode, List<String> load) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, grpc, mode, load, preload, maxLoaded, console, warmup);
    }

    /** With or without warming each forecaster up as it loads. */
    public ServeConfig withWarmup(boolean on) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, grpc, modelControl, loadModels, preload, maxLoaded, console, on);
    }

    /** With or without the browser pages. */
    public ServeConfig withConsole(boolean on) {
        return new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                limits, apiKey, strictReadiness, grpc, modelControl, loadModels, preload, maxLoaded, on, warmup);
    }
}
