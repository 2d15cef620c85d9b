package org.lstmcast.serve;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

import org.lstmcast.repository.ModelRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lazy loading of a polled repository: a version indexed by the last scan loads on its first request, which waits for
 * it, and concurrent first requests share the one load. A file that fails is not tried again until it changes.
 */
final class OnDemandLoading {
    private static final Logger LOG = LoggerFactory.getLogger(OnDemandLoading.class);

    private final ServeConfig config;
    private final Object lock;
    private final LoadedVersions loaded;
    private final LoadFailures failures;
    private final VersionLoader loader;
    private final RepositoryPoller poller;
    /** Loads in progress by "name/version": later first requests wait for the same one. */
    private final Map<String, CompletableFuture<ModelVersion>> pending = new ConcurrentHashMap<>();

    /** @param lock what changes to the loaded versions are serialized on */
    OnDemandLoading(ServeConfig config, Object lock, LoadedVersions loaded, LoadFailures failures, VersionLoader loader,
                    RepositoryPoller poller) {
        this.config = config;
        this.lock = lock;
        this.loaded = loaded;
        this.failures = failures;
        this.loader = loader;
        this.poller = poller;
    }

    /**
     * The indexed version a request means: the one named, or the highest that has not failed (as the highest loaded
     * serves when a newer file is broken); null when the index has none, and the loaded versions decide.
     */
    Long target(String name, String version) {
        NavigableMap<Long, Boolean> versions = poller.indexed(name);
        if (versions == null) {
            return null;
        }
        if (version != null) {
            long v = Long.parseLong(version);
            return versions.containsKey(v) && !failures.failed(name + "/" + v) ? v : null;
        }
        for (Long v : versions.descendingKeySet()) {
            if (!failures.failed(name + "/" + v)) {
                return v;
            }
        }
        return null;
    }

    /** Loads the models named by {@code --preload} at start, each with every version. */
    void preload() {
        for (String name : config.preload() == null ? List.<String>of() : config.preload()) {
            NavigableMap<Long, Boolean> versions = poller.indexed(name);
            if (versions == null) {
                LOG.warn("--preload {}: no model folder with a version in {}", ModelRegistry.abbreviate(name), config.models());
                continue;
            }
            for (Long v : versions.keySet()) {
                try {
                    load(name, v);
                } catch (ApiException e) {
                    LOG.warn(e.getMessage());
                }
            }
        }
    }

    /**
     * The version loaded, loading it first if it is not: the first request loads, the ones that come meanwhile wait
     * for the same load.
     *
     * @throws ApiException 503 when it failed to load, or there is no room and every loaded version is in use
     */
    ModelVersion load(String name, long version) {
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
            ModelVersion v;
            synchronized (lock) {
                v = loadNow(name, version);
            }
            mine.complete(v);
            return v;
        } catch (RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            pending.remove(key, mine);
        }
    }

    private ModelVersion loadNow(String name, long version) {
        String key = name + "/" + version;
        ModelVersion v = loaded.get(name, version);
        if (v != null) {
            return v;
        }
        if (failures.failed(key)) {
            throw ApiException.unavailable("model '" + name + "' version " + version + " failed to load: " + failures.reason(key));
        }
        Path modelDir = config.models().resolve(name);
        Path file = ModelRepository.modelFile(modelDir.resolve(Long.toString(version)));
        if (file == null) {
            throw ApiException.notFound("unknown version " + version + " of model '" + name + "'");
        }
        loader.refresh(name, version, modelDir, file, true);
        v = loaded.get(name, version);
        if (v != null) {
            return v;
        }
        String reason = failures.reason(key);
        throw ApiException.unavailable("model '" + name + "' version " + version + " failed to load: "
                + (reason == null ? "unknown reason" : reason));
    }
}
