package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.lstmcast.forecast.OrtErrors;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;
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

    /**
     * The identity of a version's files for change detection (model.onnx, and the forecast.json and config.json of
     * its model, which change how it serves): a copy in progress changes size or time between polls.
     */
    private record Stamp(List<Long> sizesAndTimes) {
        static Stamp of(Path... files) throws IOException {
            List<Long> parts = new ArrayList<>();
            for (Path f : files) {
                if (Files.exists(f)) {
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                    parts.add(a.size());
                    parts.add(a.lastModifiedTime().toMillis());
                } else {
                    parts.add(-1L);
                    parts.add(-1L);
                }
            }
            return new Stamp(List.copyOf(parts));
        }
    }

    private final ServeConfig config;
    private final Device device;
    private final MeterRegistry metrics;
    private final Map<String, NavigableMap<Long, ModelVersion>> live = new ConcurrentHashMap<>();
    private final Map<String, Stamp> stamps = new ConcurrentHashMap<>();
    private final Map<String, String> failures = new ConcurrentHashMap<>();
    /** Meters by "name/version": they outlive reloads of the folder's file (see {@link VersionMeters}). */
    private final Map<String, VersionMeters> meters = new ConcurrentHashMap<>();
    private final ScheduledExecutorService watcher;
    /** Retired versions close here, never on the thread that answered their last request. */
    private final ExecutorService closer;
    /** Version keys whose file is being opened now, for the repository index. */
    private final Set<String> loading = ConcurrentHashMap.newKeySet();
    /** Every version folder with a model file found by the last scan, by name: what may load on demand. */
    private final Map<String, NavigableMap<Long, Boolean>> indexed = new ConcurrentHashMap<>();
    /** Loads on demand in progress by "name/version": later first requests wait for the same one. */
    private final Map<String, CompletableFuture<ModelVersion>> pending = new ConcurrentHashMap<>();
    /** The server's batcher workers, shared by every version so that threads do not grow with the models loaded. */
    private final ThreadPoolExecutor workers;
    private final Counter loadsOk;
    private final Counter loadsFailed;
    private final Counter evictions;
    private final Timer loadTime;
    /** Whether every version found is loaded (at start and whenever the scan finds one), as before lazy loading. */
    private volatile boolean eager = true;
    private volatile boolean scanned;

    public ModelRegistry(ServeConfig config, MeterRegistry metrics) {
        this.config = config;
        this.device = Device.parse(config.device());
        this.metrics = metrics;
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "model-repository-watcher");
            t.setDaemon(true);
            return t;
        });
        this.closer = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "model-closer");
            t.setDaemon(true);
            return t;
        });
        // As many workers as a model may use, and at least one per core so that several models can each run on one.
        int size = Math.max(config.threads(), Runtime.getRuntime().availableProcessors());
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        this.workers = new ThreadPoolExecutor(size, size, 60, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "batcher-" + n.getAndIncrement());
            t.setDaemon(true);
            return t;
        });
        workers.allowCoreThreadTimeOut(true);
        this.loadsOk = Counter.builder("lstmcast_model_loads_total").description("Model version loads by outcome")
                .tag("outcome", "success").register(metrics);
        this.loadsFailed = Counter.builder("lstmcast_model_loads_total").description("Model version loads by outcome")
                .tag("outcome", "failure").register(metrics);
        this.evictions = Counter.builder("lstmcast_model_evictions_total")
                .description("Idle model versions unloaded to stay within the bound of loaded versions").register(metrics);
        this.loadTime = Timer.builder("lstmcast_model_load_seconds").description("Time to load a model version")
                .register(metrics);
        Gauge.builder("lstmcast_models_loaded", this, r -> r.loadedCount()).description("Model versions loaded now")
                .register(metrics);
    }

    private int loadedCount() {
        return live.values().stream().mapToInt(Map::size).sum();
    }

    /** Whether versions are evicted to make room: when asked to, or when the repository is served lazily. */
    private boolean evicting() {
        return !explicit() && (config.maxLoaded() > 0 || !eager);
    }

    /** Loads what is there now, then keeps watching; in explicit mode, loads the models asked for and stops there. */
    public void start() {
        if (explicit()) {
            LOG.info("explicit model control: loading {} and nothing more until asked", config.loadModels().isEmpty()
                    ? "no model" : String.join(", ", config.loadModels()));
            loadAtStart();
            scanned = true;
            return;
        }
        decidePreload();
        long started = System.nanoTime();
        scan();
        if (!eager) {
            LOG.info("indexed {} models in {} ms", indexed.size(), (System.nanoTime() - started) / 1_000_000);
            preload();
        }
        scanned = true;
        long period = Math.max(50, (long) (config.pollSeconds() * 1000));
        watcher.scheduleWithFixedDelay(() -> {
            try {
                scan();
            } catch (RuntimeException e) {
                LOG.error("scanning {} failed: {}", config.models(), e.toString());
            }
        }, period, period, TimeUnit.MILLISECONDS);
    }

    /**
     * Eager (everything loaded, as a server always did) when asked with {@code *}, or by default when the repository
     * holds no more versions than may be loaded at once: a small repository then serves every model from the first
     * request and shows a broken file at start; a large one starts in seconds and loads on demand.
     */
    private void decidePreload() {
        List<String> preload = config.preload();
        if (preload != null) {
            eager = preload.contains("*");
            return;
        }
        long versions = 0;
        try (Stream<Path> dirs = Files.isDirectory(config.models()) ? Files.list(config.models()) : Stream.empty()) {
            for (Path modelDir : (Iterable<Path>) dirs::iterator) {
                if (!Files.isDirectory(modelDir)) {
                    continue;
                }
                try (Stream<Path> vs = Files.list(modelDir)) {
                    versions += vs.filter(v -> ModelRepository.validVersion(v.getFileName().toString())).count();
                }
                if (versions > config.loadBound()) {
                    break;
                }
            }
        } catch (IOException e) {
            // Unreadable now: the scan reports it; load as before.
        }
        eager = versions <= config.loadBound();
        LOG.info("{} version folders in {}: {}", versions > config.loadBound() ? "more than " + config.loadBound()
                : versions, config.models(), eager ? "loading them all (--preload '*')"
                : "each loads on its first request, at most " + config.loadBound() + " at once");
    }

    /** Loads the models named by {@code --preload} at start, each with every version. */
    private void preload() {
        for (String name : config.preload() == null ? List.<String>of() : config.preload()) {
            NavigableMap<Long, Boolean> versions = indexed.get(name);
            if (versions == null) {
                LOG.warn("--preload {}: no model folder with a version in {}", abbreviate(name), config.models());
                continue;
            }
            for (Long v : versions.keySet()) {
                try {
                    loadOnDemand(name, v);
                } catch (ApiException e) {
                    LOG.warn(e.getMessage());
                }
            }
        }
    }

    private boolean explicit() {
        return config.modelControl() == ServeConfig.ModelControl.EXPLICIT;
    }

    private void loadAtStart() {
        if (config.loadModels().contains("*")) {
            scan();
            return;
        }
        for (String name : config.loadModels()) {
            if (!ModelRepository.validName(name) || !Files.isDirectory(config.models().resolve(name))) {
                throw new IllegalArgumentException("--load-model " + abbreviate(name) + ": no such model folder in "
                        + config.models());
            }
            try {
                load(name);
            } catch (ApiException e) {
                // As in polling: a model that fails is reported (index, /v1/models, strict readiness), not fatal.
                LOG.warn(e.getMessage());
            }
        }
    }

    /**
     * Whether the server is ready: the first scan has loaded or failed every file; with {@code strict}, also every
     * version folder found (in explicit mode, of the models asked to load) has a version serving (a file that failed
     * to load and has no earlier load serving keeps the server not ready, as Triton's {@code --strict-readiness} does).
     */
    public boolean ready(boolean strict) {
        if (!scanned) {
            return false;
        }
        return !strict || failures.keySet().stream().allMatch(this::serving);
    }

    private boolean serving(String key) {
        int slash = key.indexOf('/');
        NavigableMap<Long, ModelVersion> versions = live.get(key.substring(0, slash));
        return versions != null && versions.containsKey(Long.parseLong(key.substring(slash + 1)));
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
            NavigableMap<Long, ModelVersion> versions = live.get(name);
            ModelVersion v = null;
            Long target = explicit() ? null : target(name, version);
            if (target != null) {
                v = versions == null ? null : versions.get(target);
                if (v == null && !mayLoad) {
                    return null;
                }
                if (v == null) {
                    try {
                        v = loadOnDemand(name, target);
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
                if (key != null && failures.containsKey(key)) {
                    throw ApiException.unavailable("model '" + name + "' version " + version + " failed to load: " + failures.get(key));
                }
                if (failures.keySet().stream().anyMatch(k -> k.startsWith(name + "/")) && version == null) {
                    throw ApiException.unavailable("model '" + name + "' has no version ready: " + failures.entrySet().stream()
                            .filter(e -> e.getKey().startsWith(name + "/")).map(Map.Entry::getValue).findFirst().orElse(""));
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

    /**
     * The indexed version a request means: the one named, or the highest that has not failed (as the highest loaded
     * serves when a newer file is broken); null when the index has none, and the loaded versions decide.
     */
    private Long target(String name, String version) {
        NavigableMap<Long, Boolean> versions = indexed.get(name);
        if (versions == null) {
            return null;
        }
        if (version != null) {
            long v = Long.parseLong(version);
            return versions.containsKey(v) && !failures.containsKey(name + "/" + v) ? v : null;
        }
        for (Long v : versions.descendingKeySet()) {
            if (!failures.containsKey(name + "/" + v)) {
                return v;
            }
        }
        return null;
    }

    /**
     * The version loaded, loading it first if it is not: the first request loads, the ones that come meanwhile wait
     * for the same load. A file that fails is FAILED with the reason and not tried again until it changes.
     *
     * @throws ApiException 503 when it failed to load, or there is no room and every loaded version is in use
     */
    private ModelVersion loadOnDemand(String name, long version) {
        String key = name + "/" + version;
        CompletableFuture<ModelVersion> mine = new CompletableFuture<>();
        CompletableFuture<ModelVersion> theirs = pending.putIfAbsent(key, mine);
        if (theirs != null) {
            try {
                return theirs.join();
            } catch (CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        try {
            ModelVersion v = loadNow(name, version);
            mine.complete(v);
            return v;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            pending.remove(key, mine);
        }
    }

    private synchronized ModelVersion loadNow(String name, long version) {
        String key = name + "/" + version;
        NavigableMap<Long, ModelVersion> versions = live.get(name);
        if (versions != null && versions.containsKey(version)) {
            return versions.get(version);
        }
        if (failures.containsKey(key)) {
            throw ApiException.unavailable("model '" + name + "' version " + version + " failed to load: " + failures.get(key));
        }
        Path modelDir = config.models().resolve(name);
        Path file = ModelRepository.modelFile(modelDir.resolve(Long.toString(version)));
        if (file == null) {
            throw ApiException.notFound("unknown version " + version + " of model '" + name + "'");
        }
        refresh(name, version, modelDir, file, true);
        versions = live.get(name);
        ModelVersion v = versions == null ? null : versions.get(version);
        if (v != null) {
            return v;
        }
        throw ApiException.unavailable("model '" + name + "' version " + version + " failed to load: "
                + failures.getOrDefault(key, "unknown reason"));
    }

    /**
     * Evicts least recently used idle versions until one more fits under the bound.
     *
     * @return whether there is room now
     */
    private boolean makeRoom() {
        while (loadedCount() >= config.loadBound()) {
            ModelVersion lru = null;
            for (NavigableMap<Long, ModelVersion> versions : live.values()) {
                for (ModelVersion v : versions.values()) {
                    if (v.idle() && (lru == null || v.lastUsed() - lru.lastUsed() < 0)) {
                        lru = v;
                    }
                }
            }
            if (lru == null) {
                return false;
            }
            if (!lru.retireIfIdle()) {
                continue;
            }
            NavigableMap<Long, ModelVersion> versions = live.get(lru.name);
            if (versions != null) {
                versions.remove(lru.version, lru);
                if (versions.isEmpty()) {
                    live.remove(lru.name, versions);
                }
            }
            // Its series go with it, so the metrics stay bounded as the sessions are; its stamp stays, so a scan
            // that loads everything does not load it straight back.
            closeMeters(lru.name + "/" + lru.version);
            evictions.increment();
            LOG.debug("evicted {} version {}: least recently used", lru.name, lru.version);
        }
        return true;
    }

    /** Every version folder found, loaded, failed, loading or not loaded, by name then version. */
    public List<VersionStatus> statuses() {
        TreeMap<String, TreeMap<Long, VersionStatus>> all = new TreeMap<>();
        live.forEach((name, versions) -> versions.forEach((v, mv) ->
                all.computeIfAbsent(name, n -> new TreeMap<>()).put(v, new VersionStatus(name, v, "READY", null, mv))));
        failures.forEach((key, reason) -> {
            String name = key.substring(0, key.indexOf('/'));
            long v = Long.parseLong(key.substring(key.indexOf('/') + 1));
            all.computeIfAbsent(name, n -> new TreeMap<>()).putIfAbsent(v, new VersionStatus(name, v, "FAILED", reason, null));
        });
        indexed.forEach((name, versions) -> versions.keySet().forEach(v -> {
            boolean isLoading = loading.contains(name + "/" + v);
            all.computeIfAbsent(name, n -> new TreeMap<>()).putIfAbsent(v, new VersionStatus(name, v,
                    isLoading ? "LOADING" : "UNLOADED", null, null));
        }));
        List<VersionStatus> out = new ArrayList<>();
        all.values().forEach(m -> out.addAll(m.values()));
        return out;
    }

    /**
     * Brings every model in the repository in step with its folder, and retires the models whose folder is gone. The
     * folders are listed before the registry is locked: listing 10,000 of them takes long enough that loads on
     * demand, which take the lock, should not wait for it.
     */
    void scan() {
        Map<String, NavigableMap<Long, Path>> found = new TreeMap<>();
        try (Stream<Path> dirs = Files.isDirectory(config.models()) ? Files.list(config.models()) : Stream.empty()) {
            for (Path modelDir : (Iterable<Path>) dirs::iterator) {
                String name = modelDir.getFileName().toString();
                if (ModelRepository.validName(name) && Files.isDirectory(modelDir)) {
                    try {
                        found.put(name, list(modelDir));
                    } catch (IOException e) {
                        // Removed while listing: gone from the repository.
                    }
                }
            }
        } catch (IOException e) {
            LOG.error("cannot read the model repository {}: {}", config.models(), e.toString());
            return;
        }
        apply(found);
    }

    private synchronized void apply(Map<String, NavigableMap<Long, Path>> found) {
        Set<String> failed = new HashSet<>();
        failures.keySet().forEach(k -> failed.add(k.substring(0, k.indexOf('/'))));
        Set<String> known = known();
        for (Map.Entry<String, NavigableMap<Long, Path>> e : found.entrySet()) {
            String name = e.getKey();
            // Served lazily, only a model in use (or failed, to retry it when it changes) is kept in step.
            applyModel(name, e.getValue(), eager || live.containsKey(name) || failed.contains(name), known.contains(name));
        }
        for (String name : known) {
            if (!found.containsKey(name)) {
                retireExcept(name, Set.of(), "removed from the repository");
            }
        }
        indexed.keySet().removeIf(name -> !found.containsKey(name));
    }

    /** The version folders of a model that hold a model file, with the file. */
    private static NavigableMap<Long, Path> list(Path modelDir) throws IOException {
        NavigableMap<Long, Path> versions = new TreeMap<>();
        try (Stream<Path> dirs = Files.list(modelDir)) {
            for (Path versionDir : (Iterable<Path>) dirs::iterator) {
                String v = versionDir.getFileName().toString();
                if (ModelRepository.validVersion(v)) {
                    Path file = ModelRepository.modelFile(versionDir);
                    if (file != null) {
                        versions.put(Long.parseLong(v), file);
                    }
                }
            }
        }
        return versions;
    }

    /**
     * Brings one model in step with its folder: loads new and changed version files, retries failed ones that
     * changed, and retires the versions whose folder or file is gone.
     */
    private void scanModel(String name, Path modelDir) throws IOException {
        applyModel(name, list(modelDir), true, true);
    }

    /**
     * @param load  whether to load new and changed files, or only to index them
     * @param known whether anything of the model is loaded, failed or metered, which a removed version may leave
     */
    private void applyModel(String name, NavigableMap<Long, Path> versions, boolean load, boolean known) {
        Set<String> seen = new HashSet<>();
        NavigableMap<Long, Boolean> index = new ConcurrentSkipListMap<>();
        Path modelDir = config.models().resolve(name);
        for (Map.Entry<Long, Path> v : versions.entrySet()) {
            seen.add(name + "/" + v.getKey());
            index.put(v.getKey(), Boolean.TRUE);
            if (load) {
                refresh(name, v.getKey(), modelDir, v.getValue(), false);
            }
        }
        // Explicit control loads only what it is asked to: nothing there loads on demand.
        if (index.isEmpty() || explicit()) {
            indexed.remove(name);
        } else if (!index.equals(indexed.get(name))) {
            indexed.put(name, index);
        }
        if (known || load) {
            retireExcept(name, seen, "removed from the repository");
        }
    }

    /** Model names with anything loaded, failed or metered. */
    private Set<String> known() {
        Set<String> names = new HashSet<>(live.keySet());
        for (Set<String> keys : List.of(failures.keySet(), stamps.keySet(), meters.keySet())) {
            keys.forEach(k -> names.add(k.substring(0, k.indexOf('/'))));
        }
        return names;
    }

    /**
     * Retires the versions of {@code name} not in {@code keep} (after their in-flight requests) and forgets their
     * failures, stamps and meters.
     */
    private void retireExcept(String name, Set<String> keep, String why) {
        NavigableMap<Long, ModelVersion> versions = live.get(name);
        if (versions != null) {
            for (Long v : List.copyOf(versions.keySet())) {
                if (!keep.contains(name + "/" + v)) {
                    ModelVersion old = versions.remove(v);
                    LOG.info("unloading {} version {}: {}", name, v, why);
                    old.retire();
                }
            }
            if (versions.isEmpty()) {
                live.remove(name, versions);
            }
        }
        Predicate<String> gone = k -> k.startsWith(name + "/") && !keep.contains(k);
        failures.keySet().removeIf(gone);
        stamps.keySet().removeIf(gone);
        List.copyOf(meters.keySet()).stream().filter(gone).forEach(this::closeMeters);
    }

    /**
     * Loads, or reloads from disk, every version folder of {@code name} (explicit model control's load): changed
     * files are reloaded, unchanged ones keep serving, failed ones are retried, removed ones retired.
     *
     * @throws ApiException 400 when the model has no folder or no version of it serves afterwards, with the reasons
     */
    public synchronized void load(String name) {
        if (!ModelRepository.validName(name)) {
            throw ApiException.badRequest("failed to load '" + abbreviate(name) + "': not a model name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
        }
        Path modelDir = config.models().resolve(name);
        if (!Files.isDirectory(modelDir)) {
            retireExcept(name, Set.of(), "removed from the repository");
            throw ApiException.badRequest("failed to load '" + name + "': no folder '" + name + "' in the model repository");
        }
        // Asked explicitly: retry a failure even if its file is unchanged, its cause may lie elsewhere (--max-models).
        stamps.keySet().removeIf(k -> k.startsWith(name + "/") && failures.containsKey(k));
        try {
            scanModel(name, modelDir);
        } catch (IOException e) {
            throw ApiException.badRequest("failed to load '" + name + "': cannot read its folder: "
                    + withinRepository(String.valueOf(e.getMessage())));
        }
        NavigableMap<Long, ModelVersion> versions = live.get(name);
        if (versions != null && !versions.isEmpty()) {
            return;
        }
        List<String> reasons = new ArrayList<>();
        new TreeMap<>(failures).forEach((k, reason) -> {
            if (k.startsWith(name + "/")) {
                reasons.add("version " + k.substring(name.length() + 1) + ": " + reason);
            }
        });
        throw ApiException.badRequest("failed to load '" + name + "': " + (reasons.isEmpty()
                ? "no version folder with a " + ModelRepository.MODEL_FILE + " (" + name + "/<version>/"
                        + ModelRepository.MODEL_FILE + ")"
                : String.join("; ", reasons)));
    }

    /**
     * Retires every version of {@code name} (explicit model control's unload); requests in flight finish first.
     *
     * @throws ApiException 400 when nothing of the model is loaded or failed
     */
    public synchronized void unload(String name) {
        if (!ModelRepository.validName(name) || !known().contains(name)) {
            throw ApiException.badRequest("failed to unload '" + abbreviate(name) + "': no version of it is loaded");
        }
        retireExcept(name, Set.of(), "unloaded on request");
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
                            String state = loading.contains(name + "/" + v) ? "LOADING" : "UNAVAILABLE";
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
            boolean isLoading = loading.contains(s.name() + "/" + s.version());
            VersionStatus triton = s.loaded() != null ? s : new VersionStatus(s.name(), s.version(),
                    isLoading ? "LOADING" : "UNAVAILABLE", s.reason() != null || isLoading ? s.reason() : "not loaded", null);
            all.computeIfAbsent(s.name(), n -> new TreeMap<>()).put(s.version(), triton);
        }
        List<VersionStatus> out = new ArrayList<>();
        all.values().forEach(m -> out.addAll(m.values()));
        return out;
    }

    private void closeMeters(String key) {
        VersionMeters m = meters.remove(key);
        if (m != null) {
            m.close();
        }
    }

    /** @param onDemand load even if the file is unchanged since it was last seen (a first request, or after eviction) */
    private void refresh(String name, long version, Path modelDir, Path file, boolean onDemand) {
        String key = name + "/" + version;
        Stamp stamp;
        try {
            stamp = Stamp.of(file, modelDir.resolve(ModelRepository.FORECAST_FILE), modelDir.resolve(ModelRepository.CONFIG_FILE));
        } catch (IOException e) {
            return;
        }
        if (!onDemand && stamp.equals(stamps.get(key))) {
            return;
        }
        stamps.put(key, stamp);
        loading.add(key);
        try {
            Path real = file.toRealPath();
            if (!real.startsWith(config.models().toRealPath())) {
                throw new IllegalArgumentException("model.onnx resolves to " + real + ", outside the repository; refused");
            }
            ModelSettings settings = ModelSettings.read(modelDir, config);
            if (DropIn.needsConversion(file)) {
                // Converted off the request path, proven, and cached beside the source; forecast.json is folded in.
                long convertStart = System.nanoTime();
                DropIn.Converted c = DropIn.convert(file, settings);
                LOG.info("{} {} version {}: {}", c.reused() ? "reusing the conversion of" : "converted", name, version,
                        c.summary() + " in " + (System.nanoTime() - convertStart) / 1_000_000 + " ms");
                file = c.file();
                settings = settings.withoutForecast();
            }
            ModelReport report = OnnxInspector.inspect(file, false);
            if (report.unsafe()) {
                throw new IllegalArgumentException(String.join("; ", report.problems()) + "; refused");
            }
            boolean replacing = live.containsKey(name) && live.get(name).containsKey(version);
            int count = loadedCount();
            if (!replacing && count >= config.loadBound() && !(evicting() && makeRoom())) {
                if (evicting()) {
                    throw new NoRoom("all " + count + " loaded model versions have requests in flight (--max-loaded); retry");
                }
                throw new IllegalStateException("not loaded: " + count + " model versions are loaded, the limit ("
                        + (config.maxLoaded() > 0 ? "--max-loaded" : "--max-models") + ")");
            }
            VersionMeters versionMeters = meters.computeIfAbsent(key, k -> new VersionMeters(metrics, name, version));
            long start = System.nanoTime();
            ModelVersion loaded;
            try {
                loaded = ModelVersion.load(name, version, file, report, settings, config, device, versionMeters, closer,
                        workers);
            } catch (ai.onnxruntime.OrtException e) {
                if (!replacing) {
                    closeMeters(key);
                }
                // The inspector's account says why (e.g. an LSTM with layout=1) beside ONNX Runtime's own message.
                List<String> reasons = new ArrayList<>(report.problems());
                reasons.add(OnnxInspector.LOAD_FAILURE + OrtErrors.message(e));
                throw new IllegalArgumentException(String.join("; ", reasons), e);
            } catch (RuntimeException | Error e) {
                if (!replacing) {
                    closeMeters(key);
                }
                throw e;
            }
            loadTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            loadsOk.increment();
            ModelVersion old = live.computeIfAbsent(name, n -> new ConcurrentSkipListMap<>()).put(version, loaded);
            failures.remove(key);
            if (old != null) {
                old.retire();
            }
            LOG.atLevel(eager || old != null ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG).log(
                    "{} {} version {} in {} ms on {}: {} -> {}; {}", old == null ? "loaded" : "reloaded", name, version,
                    (System.nanoTime() - start) / 1_000_000, loaded.provider, signature(loaded.inputs),
                    signature(loaded.outputs), loaded.canForecast() ? "forecasts with lookback " + loaded.spec.lookback()
                            + ", horizon " + loaded.spec.horizon() + (loaded.spec.timeMajor() ? ", time-major" : "")
                            : "inference protocol only (" + loaded.notForecasting + ")");
        } catch (NoRoom e) {
            // Not the file's fault: nothing is recorded against it, and the request is told to come back.
            stamps.remove(key);
            if (onDemand) {
                throw ApiException.unavailable(e.getMessage());
            }
            LOG.debug("{} version {} not loaded yet: {}", name, version, e.getMessage());
        } catch (Exception | LinkageError e) {
            loadsFailed.increment();
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : withinRepository(OrtErrors.clean(e.getMessage()));
            failures.put(key, reason);
            LOG.warn("cannot load {} version {}: {}", name, version, reason);
        } finally {
            loading.remove(key);
        }
    }

    /** No version could be evicted to make room for a load: all are in use. */
    private static final class NoRoom extends RuntimeException {
        NoRoom(String message) {
            super(message);
        }
    }

    /** A reason with the repository's own path left out: clients see reasons, and the server's paths are not theirs. */
    private String withinRepository(String reason) {
        String out = reason;
        for (Path root : new Path[] {config.models().toAbsolutePath(), realOrSelf(config.models())}) {
            out = out.replace(root + java.io.File.separator, "");
        }
        return out;
    }

    private static Path realOrSelf(Path p) {
        try {
            return p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    /** {@code x[-1,-1,1] FP32}, for the log. */
    private static String signature(List<TensorDescription> tensors) {
        StringBuilder sb = new StringBuilder();
        for (TensorDescription t : tensors) {
            sb.append(sb.length() > 0 ? ", " : "").append(t.name())
                    .append(t.isTensor() ? java.util.Arrays.toString(t.shape()).replace(" ", "") : "")
                    .append(' ').append(t.isTensor() ? t.datatype() : "?");
        }
        return sb.toString();
    }

    private static String abbreviate(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() <= 64 ? clean : clean.substring(0, 61) + "...";
    }

    @Override
    public void close() {
        watcher.shutdownNow();
        try {
            watcher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (NavigableMap<Long, ModelVersion> versions : live.values()) {
            versions.values().forEach(ModelVersion::retire);
        }
        live.clear();
        closer.shutdown();
        workers.shutdown();
        try {
            if (!closer.awaitTermination(35, TimeUnit.SECONDS)) {
                LOG.warn("model versions still closing after 35 s; exiting without them");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List.copyOf(meters.keySet()).forEach(this::closeMeters);
    }
}
