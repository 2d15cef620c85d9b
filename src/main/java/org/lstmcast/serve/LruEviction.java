package org.lstmcast.serve;

import java.util.function.BooleanSupplier;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the loaded versions within the bound by unloading the least recently used one that no request holds; an
 * evicted version loads again on its next request.
 */
final class LruEviction {
    private static final Logger LOG = LoggerFactory.getLogger(LruEviction.class);

    private final ServeConfig config;
    private final LoadedVersions loaded;
    private final BooleanSupplier eager;
    private final FolderMeters meters;
    private final Counter evictions;

    /**
     * @param eager       whether every version found is loaded; a lazily served repository evicts at the bound
     */
    LruEviction(ServeConfig config, LoadedVersions loaded, BooleanSupplier eager, FolderMeters meters,
                MeterRegistry metrics) {
        this.config = config;
        this.loaded = loaded;
        this.eager = eager;
        this.meters = meters;
        this.evictions = Counter.builder("lstmcast_model_evictions_total")
                .description("Idle model versions unloaded to stay within the bound of loaded versions").register(metrics);
    }

    /** Whether versions are evicted to make room: when asked to, or when the repository is served lazily. */
    boolean active() {
        return config.modelControl() != ServeConfig.ModelControl.EXPLICIT && (config.maxLoaded() > 0 || !eager.getAsBoolean());
    }

    /**
     * Evicts least recently used idle versions until one more fits under the bound.
     *
     * @return whether there is room now
     */
    boolean makeRoom() {
        while (loaded.count() >= config.loadBound()) {
            // Compared by difference: nanoTime values may wrap.
            ModelVersion lru = loaded.stream().filter(ModelVersion::idle)
                    .reduce((a, b) -> b.lastUsed() - a.lastUsed() < 0 ? b : a).orElse(null);
            if (lru == null) {
                return false;
            }
            if (!lru.retireIfIdle()) {
                continue;
            }
            loaded.remove(lru);
            // Its series go with it, so the metrics stay bounded as the sessions are; its stamp stays, so a scan
            // that loads everything does not load it straight back.
            meters.close(lru.name + "/" + lru.version);
            evictions.increment();
            LOG.debug("evicted {} version {}: least recently used", lru.name, lru.version);
        }
        return true;
    }
}
