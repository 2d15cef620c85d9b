package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.lstmcast.repository.ModelRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the registry in step with the repository folder: lists the version folders, indexes them for loading on
 * demand, loads new and changed files (all of them when eager, only those of models in use when lazy), and retires
 * what is gone, at start and then every poll period.
 */
final class RepositoryPoller implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RepositoryPoller.class);

    private final ServeConfig config;
    private final Object lock;
    private final LoadedVersions loaded;
    private final LoadFailures failures;
    private final VersionLoader loader;
    private final ScheduledExecutorService watcher;
    /** Every version folder with a model file found by the last scan, by name: what may load on demand. */
    private final Map<String, NavigableMap<Long, Boolean>> indexed = new ConcurrentHashMap<>();
    /** Whether every version found is loaded (at start and whenever the scan finds one), as before lazy loading. */
    private volatile boolean eager = true;

    /** @param lock what changes to the loaded versions are serialized on */
    RepositoryPoller(ServeConfig config, Object lock, LoadedVersions loaded, LoadFailures failures, VersionLoader loader) {
        this.config = config;
        this.lock = lock;
        this.loaded = loaded;
        this.failures = failures;
        this.loader = loader;
        this.watcher = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "model-repository-watcher");
            t.setDaemon(true);
            return t;
        });
    }

    boolean eager() {
        return eager;
    }

    /** The versions of {@code name} the last scan found, or null when it found none. */
    NavigableMap<Long, Boolean> indexed(String name) {
        return indexed.get(name);
    }

    /** Every model the last scan found, with its versions. */
    Map<String, NavigableMap<Long, Boolean>> indexed() {
        return indexed;
    }

    /**
     * Eager (everything loaded, as a server always did) when asked with {@code *}, or by default when the repository
     * holds no more versions than may be loaded at once: a small repository then serves every model from the first
     * request and shows a broken file at start; a large one starts in seconds and loads on demand.
     */
    void decidePreload() {
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

    /** Scans the repository every poll period from now on. */
    void watch() {
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
     * Brings every model in the repository in step with its folder, and retires the models whose folder is gone. The
     * folders are listed before the lock is taken: listing 10,000 of them takes long enough that loads on demand,
     * which take the lock, should not wait for it.
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
        synchronized (lock) {
            apply(found);
        }
    }

    private void apply(Map<String, NavigableMap<Long, Path>> found) {
        Set<String> failed = new HashSet<>();
        failures.keys().forEach(k -> failed.add(k.substring(0, k.indexOf('/'))));
        Set<String> known = loader.known();
        for (Map.Entry<String, NavigableMap<Long, Path>> e : found.entrySet()) {
            String name = e.getKey();
            // Served lazily, only a model in use (or failed, to retry it when it changes) is kept in step.
            applyModel(name, e.getValue(), eager || loaded.hasAny(name) || failed.contains(name), known.contains(name));
        }
        for (String name : known) {
            if (!found.containsKey(name)) {
                loader.retireExcept(name, Set.of(), "removed from the repository");
            }
        }
        indexed.keySet().removeIf(name -> !found.containsKey(name));
    }

    /**
     * Brings one model in step with its folder: loads new and changed version files, retries failed ones that
     * changed, and retires the versions whose folder or file is gone. The caller holds the lock.
     */
    void scanModel(String name, Path modelDir) throws IOException {
        applyModel(name, list(modelDir), true, true);
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
                loader.refresh(name, v.getKey(), modelDir, v.getValue(), false);
            }
        }
        // Explicit control loads only what it is asked to: nothing there loads on demand.
        if (index.isEmpty() || config.modelControl() == ServeConfig.ModelControl.EXPLICIT) {
            indexed.remove(name);
        } else if (!index.equals(indexed.get(name))) {
            indexed.put(name, index);
        }
        if (known || load) {
            loader.retireExcept(name, seen, "removed from the repository");
        }
    }

    @Override
    public void close() {
        watcher.shutdownNow();
        try {
            watcher.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
