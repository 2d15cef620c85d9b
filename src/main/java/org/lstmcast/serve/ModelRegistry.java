package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.lstmcast.repository.ModelRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models being served, kept in step with the repository folder by polling it, or in explicit model control
 * changed only by {@link #load} and {@link #unload}. A new or changed file is loaded beside what serves and takes
 * over only once ready; a removed one is retired after its requests finish; a file that fails to load is reported
 * with the reason and retried when it changes, while everything else keeps serving. Changes are serialized on the
 * registry; requests never wait for them.
 *
 * <p>When polled, the repository may be served lazily: the start only lists the version folders, and a version loads
 * on its first request, which waits for it (concurrent first requests share the one load). Versions loaded on
 * request, and those of models with anything loaded or failed, are watched as above; at the bound of loaded versions
 * the least recently used one without a request in flight is evicted and loads again on demand.
 */
public final class ModelRegistry implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ModelRegistry.class);

    /** What the registry knows of one version folder, loaded or not. */
    public record VersionStatus(String name, long version, String state, String reason, ModelVersion loaded) {
    }

    private final ServeConfig config;
    /** Changes to what is loaded (scans, loads on demand, explicit loads and unloads) are serialized on it. */
    private final Object changes = new Object();
    private final LoadedVersions loaded = new LoadedVersions();
    private final LoadFailures failures;
    private final Readiness readiness;
    private final FolderMeters meters;
    private final VersionLoader loader;
    private final RepositoryPoller poller;
    private final OnDemandLoading onDemand;
    private final ExplicitControl control;
    /** Retired versions close here, never on the thread that answered their last request. */
    private final ExecutorService closer;
    /** The server's batcher workers, shared by every version so that threads do not grow with the models loaded. */
    private final ThreadPoolExecutor workers;

    public ModelRegistry(ServeConfig config, MeterRegistry metrics) {
        this.config = config;
        this.closer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "model-closer");
            t.setDaemon(true);
            return t;
        });
        // As many workers as a model may use, and at least one per core so that several models can each run on one.
        int size = Math.max(config.threads(), Runtime.getRuntime().availableProcessors());
        AtomicInteger n = new AtomicInteger();
        this.workers = new ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "batcher-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        workers.allowCoreThreadTimeOut(true);
        this.failures = new LoadFailures(config.models());
        this.readiness = new Readiness(loaded, failures);
        // The poller decides eagerness at start, after these are built: they ask it when they need to know.
        this.meters = new FolderMeters(metrics);
        LruEviction eviction = new LruEviction(config, loaded, this::eager, meters, metrics);
        this.loader = new VersionLoader(config, metrics, meters, loaded, failures, eviction, this::eager, closer, workers);
        this.poller = new RepositoryPoller(config, changes, loaded, failures, loader);
        this.onDemand = new OnDemandLoading(config, changes, loaded, failures, loader, poller);
        this.control = new ExplicitControl(config, changes, loaded, failures, loader, poller);
        Gauge.builder("lstmcast_models_loaded", loaded, LoadedVersions::count).description("Model versions loaded now")
                .register(metrics);
    }

    private boolean eager() {
        return poller.eager();
    }

    private boolean explicit() {
        return config.modelControl() == ServeConfig.ModelControl.EXPLICIT;
    }

    /** Loads what is there now, then keeps watching; in explicit mode, loads the models asked for and stops there. */
    public void start() {
        if (explicit()) {
            control.loadAtStart();
            readiness.started();
            return;
        }
        poller.decidePreload();
        long started = System.nanoTime();
        poller.scan();
        if (!poller.eager()) {
            LOG.info("indexed {} models in {} ms", poller.indexed().size(), (System.nanoTime() - started) / 1_000_000);
            onDemand.preload();
        }
        readiness.started();
        poller.watch();
    }

    /**
     * Whether the server is ready: the first scan has loaded or failed every file; with {@code strict}, also every
     * version folder found (in explicit mode, of the models asked to load) has a version serving (a file that failed
     * to load and has no earlier load serving keeps the server not ready, as Triton's {@code --strict-readiness} does).
     */
    public boolean ready(boolean strict) {
        return readiness.ready(strict);
    }

    /** Keeps the server not ready, whatever has loaded, until released: see {@code serve --warm-up-traffic}. */
    public void holdReady(boolean hold) {
        readiness.hold(hold);
    }

    /** The version to serve (the highest when {@code version} is null), held for the caller: release it after use. */
    public ModelVersion acquire(String name, String version) {
        return acquire(name, version, true);
    }

    /**
     * As {@link #acquire(String, String)}, but null where that would load the version first: a caller on an I/O
     * thread, which must not wait for a load, hands the request to a thread that may.
     */
    public ModelVersion acquireLoaded(String name, String version) {
        return acquire(name, version, false);
    }

    private ModelVersion acquire(String name, String version, boolean mayLoad) {
        if (!ModelRepository.validName(name)) {
            throw ApiException.notFound("unknown model '" + abbreviate(name) + "'");
        }
        if (version != null && !ModelRepository.validVersion(version)) {
            throw ApiException.notFound("unknown version '" + abbreviate(version) + "' of model '" + name + "'");
        }
        for (int attempt = 0; attempt < 3; attempt++) {
            NavigableMap<Long, ModelVersion> versions = loaded.of(name);
            ModelVersion v = null;
            Long target = explicit() ? null : onDemand.target(name, version);
            if (target != null) {
                v = versions == null ? null : versions.get(target);
                if (v == null && !mayLoad) {
                    return null;
                }
                if (v == null) {
                    try {
                        v = onDemand.load(name, target);
                    } catch (ApiException e) {
                        // The index still named a version whose folder has just been deleted: a request for the model
                        // itself is answered as if the index had already caught up.
                        if (e.status() != 404 || version != null) {
                            throw e;
                        }
                    }
                }
            } else if (versions != null && !versions.isEmpty()) {
                v = version == null ? versions.lastEntry().getValue() : versions.get(Long.parseLong(version));
            }
            if (v == null) {
                String key = version == null ? null : name + "/" + version;
                if (key != null && failures.failed(key)) {
                    throw ApiException.unavailable("model '" + name + "' version " + version + " failed to load: " + failures.reason(key));
                }
                if (failures.anyOf(name) && version == null) {
                    throw ApiException.unavailable("model '" + name + "' has no version ready: " + failures.firstOf(name));
                }
                throw ApiException.notFound(version == null ? "unknown model '" + name + "'"
                        : "unknown version " + version + " of model '" + name + "'");
            }
            if (v.acquire()) {
                return v;
            }
            // Retired between lookup and acquire: a newer version has taken over, or it was evicted; look again.
        }
        throw ApiException.unavailable("model '" + name + "' is being replaced; retry");
    }

    /** Every version folder found, loaded, failed, loading or not loaded, by name then version. */
    public List<VersionStatus> statuses() {
        TreeMap<String, TreeMap<Long, VersionStatus>> all = new TreeMap<>();
        loaded.forEach((name, versions) -> versions.forEach((v, mv) ->
                all.computeIfAbsent(name, n -> new TreeMap<>()).put(v, new VersionStatus(name, v, "READY", null, mv))));
        failures.forEach((key, reason) -> {
            String name = key.substring(0, key.indexOf('/'));
            long v = Long.parseLong(key.substring(key.indexOf('/') + 1));
            all.computeIfAbsent(name, n -> new TreeMap<>()).putIfAbsent(v, new VersionStatus(name, v, "FAILED", reason, null));
        });
        poller.indexed().forEach((name, versions) -> versions.keySet().forEach(v -> {
            boolean isLoading = loader.loading(name + "/" + v);
            all.computeIfAbsent(name, n -> new TreeMap<>()).putIfAbsent(v, new VersionStatus(name, v,
                    isLoading ? "LOADING" : "UNLOADED", null, null));
        }));
        List<VersionStatus> out = new ArrayList<>();
        all.values().forEach(m -> out.addAll(m.values()));
        return out;
    }

    /** Brings every model in the repository in step with its folder now, rather than at the next poll. */
    void scan() {
        poller.scan();
    }

    /**
     * Loads, or reloads from disk, every version folder of {@code name} (explicit model control's load).
     *
     * @throws ApiException 400 when the model has no folder or no version of it serves afterwards, with the reasons
     */
    public void load(String name) {
        control.load(name);
    }

    /**
     * Retires every version of {@code name} (explicit model control's unload); requests in flight finish first.
     *
     * @throws ApiException 400 when nothing of the model is loaded or failed
     */
    public void unload(String name) {
        control.unload(name);
    }

    /**
     * Triton's repository index: every version folder in the repository and every version loaded, with its state:
     * READY, LOADING, or UNAVAILABLE with the reason (the load failure, or "not loaded").
     */
    public List<VersionStatus> index() {
        TreeMap<String, TreeMap<Long, VersionStatus>> all = new TreeMap<>();
        try (Stream<Path> dirs = Files.isDirectory(config.models()) ? Files.list(config.models()) : Stream.empty()) {
            for (Path modelDir : dirs.toList()) {
                String name = modelDir.getFileName().toString();
                if (!Files.isDirectory(modelDir) || !ModelRepository.validName(name)) {
                    continue;
                }
                try (Stream<Path> versions = Files.list(modelDir)) {
                    for (Path versionDir : versions.toList()) {
                        String v = versionDir.getFileName().toString();
                        if (ModelRepository.validVersion(v) && ModelRepository.modelFile(versionDir) != null) {
                            String state = loader.loading(name + "/" + v) ? "LOADING" : "UNAVAILABLE";
                            all.computeIfAbsent(name, n -> new TreeMap<>()).put(Long.parseLong(v), new VersionStatus(name,
                                    Long.parseLong(v), state, state.equals("LOADING") ? null : "not loaded", null));
                        }
                    }
                } catch (IOException e) {
                    // A folder removed while listing: what is loaded of it is still listed below.
                }
            }
        } catch (IOException e) {
            LOG.warn("cannot read the model repository {}: {}", config.models(), e.toString());
        }
        for (VersionStatus s : statuses()) {
            boolean isLoading = loader.loading(s.name() + "/" + s.version());
            VersionStatus triton = s.loaded() != null ? s : new VersionStatus(s.name(), s.version(),
                    isLoading ? "LOADING" : "UNAVAILABLE", s.reason() != null || isLoading ? s.reason() : "not loaded", null);
            all.computeIfAbsent(s.name(), n -> new TreeMap<>()).put(s.version(), triton);
        }
        List<VersionStatus> out = new ArrayList<>();
        all.values().forEach(m -> out.addAll(m.values()));
        return out;
    }

    /** A name as a message may quote it: printable, and short. */
    static String abbreviate(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() <= 64 ? clean : clean.substring(0, 61) + "...";
    }

    @Override
    public void close() {
        poller.close();
        loaded.retireAll();
        closer.shutdown();
        workers.shutdown();
        try {
            if (!closer.awaitTermination(35, TimeUnit.SECONDS)) {
                LOG.warn("model versions still closing after 35 s; exiting without them");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        meters.closeAll();
    }
}
