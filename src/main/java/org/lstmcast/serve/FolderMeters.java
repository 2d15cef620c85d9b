package org.lstmcast.serve;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * The {@link VersionMeters} of each version folder by {@code "name/version"}: they outlive reloads of the folder's
 * file, and go when the folder goes or its version is evicted, so that the series stay bounded as the sessions are.
 */
final class FolderMeters {
    private final MeterRegistry metrics;
    private final Map<String, VersionMeters> byKey = new ConcurrentHashMap<>();

    FolderMeters(MeterRegistry metrics) {
        this.metrics = metrics;
    }

    /** The folder's meters, made on first use. */
    VersionMeters of(String name, long version) {
        return byKey.computeIfAbsent(name + "/" + version, k -> new VersionMeters(metrics, name, version));
    }

    /** A live view of the metered keys. */
    Set<String> keys() {
        return byKey.keySet();
    }

    /** Drops the meters of {@code "name/version"} and their series. */
    void close(String key) {
        VersionMeters m = byKey.remove(key);
        if (m != null) {
            m.close();
        }
    }

    void close(Predicate<String> gone) {
        List.copyOf(byKey.keySet()).stream().filter(gone).forEach(this::close);
    }

    void closeAll() {
        close(k -> true);
    }
}
