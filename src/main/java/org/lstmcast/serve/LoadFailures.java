package org.lstmcast.serve;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Predicate;

/**
 * The version files that failed to load, by {@code "name/version"}, with the reason clients are shown. A failure
 * stays until its file changes, a load of it succeeds or its folder goes.
 */
final class LoadFailures {
    private final Map<String, String> reasons = new ConcurrentHashMap<>();
    private final Path repository;

    LoadFailures(Path repository) {
        this.repository = repository;
    }

    void record(String key, String reason) {
        reasons.put(key, reason);
    }

    void clear(String key) {
        reasons.remove(key);
    }

    boolean failed(String key) {
        return reasons.containsKey(key);
    }

    /** The reason, or null when the version has not failed. */
    String reason(String key) {
        return reasons.get(key);
    }

    boolean anyOf(String name) {
        return reasons.keySet().stream().anyMatch(k -> k.startsWith(name + "/"));
    }

    /** One reason of a failed version of {@code name}, as a request for the model is told; empty when none failed. */
    String firstOf(String name) {
        return reasons.entrySet().stream().filter(e -> e.getKey().startsWith(name + "/")).map(Map.Entry::getValue)
                .findFirst().orElse("");
    }

    /** {@code "version V: reason"} for each failed version of {@code name}, in key order. */
    List<String> describe(String name) {
        List<String> out = new ArrayList<>();
        new TreeMap<>(reasons).forEach((k, reason) -> {
            if (k.startsWith(name + "/")) {
                out.add("version " + k.substring(name.length() + 1) + ": " + reason);
            }
        });
        return out;
    }

    /** A live view of the failed keys. */
    Set<String> keys() {
        return reasons.keySet();
    }

    void forEach(BiConsumer<String, String> action) {
        reasons.forEach(action);
    }

    void forget(Predicate<String> gone) {
        reasons.keySet().removeIf(gone);
    }

    /** A reason with the repository's own path left out: clients see reasons, and the server's paths are not theirs. */
    String withinRepository(String reason) {
        String out = reason;
        for (Path root : new Path[] {repository.toAbsolutePath(), realOrSelf(repository)}) {
            out = out.replace(root + File.separator, "");
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
}
