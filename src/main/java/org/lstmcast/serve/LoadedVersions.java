package org.lstmcast.serve;

import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/** The versions serving now, by model name then version; requests read it without a lock. */
final class LoadedVersions {
    private final Map<String, NavigableMap<Long, ModelVersion>> live = new ConcurrentHashMap<>();

    /** The versions of {@code name}, or null when none serves. */
    NavigableMap<Long, ModelVersion> of(String name) {
        return live.get(name);
    }

    ModelVersion get(String name, long version) {
        NavigableMap<Long, ModelVersion> versions = live.get(name);
        return versions == null ? null : versions.get(version);
    }

    boolean has(String name, long version) {
        return get(name, version) != null;
    }

    boolean hasAny(String name) {
        return live.containsKey(name);
    }

    /** Whether the version {@code "name/version"} serves. */
    boolean serving(String key) {
        int slash = key.indexOf('/');
        return has(key.substring(0, slash), Long.parseLong(key.substring(slash + 1)));
    }

    /** Puts {@code v} in service; the version it replaces, which the caller retires, or null. */
    ModelVersion put(ModelVersion v) {
        return live.computeIfAbsent(v.name, n -> new ConcurrentSkipListMap<>()).put(v.version, v);
    }

    /** Takes a version out of the map, whichever object serves it; null when none did. */
    ModelVersion remove(String name, long version) {
        NavigableMap<Long, ModelVersion> versions = live.get(name);
        if (versions == null) {
            return null;
        }
        ModelVersion removed = versions.remove(version);
        if (versions.isEmpty()) {
            live.remove(name, versions);
        }
        return removed;
    }

    /** Takes {@code v} out of the map only if it is still the one serving its version. */
    void remove(ModelVersion v) {
        NavigableMap<Long, ModelVersion> versions = live.get(v.name);
        if (versions != null) {
            versions.remove(v.version, v);
            if (versions.isEmpty()) {
                live.remove(v.name, versions);
            }
        }
    }

    int count() {
        return live.values().stream().mapToInt(Map::size).sum();
    }

    /** Every version serving now. */
    Stream<ModelVersion> stream() {
        return live.values().stream().flatMap(versions -> versions.values().stream());
    }

    Set<String> names() {
        return live.keySet();
    }

    void forEach(BiConsumer<String, NavigableMap<Long, ModelVersion>> action) {
        live.forEach(action);
    }

    /** Takes every version out of service; each closes once its requests are answered. */
    void retireAll() {
        for (NavigableMap<Long, ModelVersion> versions : live.values()) {
            List.copyOf(versions.values()).forEach(ModelVersion::retire);
        }
        live.clear();
    }
}
