package org.lstmcast.serve;

/**
 * Whether the server is ready: once the first scan (or, in explicit mode, the loads asked for at start) has loaded or
 * failed every file; strictly, also once every failed version folder has a version serving, as Triton's
 * {@code --strict-readiness} has it.
 */
final class Readiness {
    private final LoadedVersions loaded;
    private final LoadFailures failures;
    private volatile boolean started;
    private volatile boolean held;

    Readiness(LoadedVersions loaded, LoadFailures failures) {
        this.loaded = loaded;
        this.failures = failures;
    }

    /** The start's loads are done. */
    void started() {
        started = true;
    }

    /** While held, the server is not ready whatever has loaded: its request path is still being exercised. */
    void hold(boolean on) {
        held = on;
    }

    boolean ready(boolean strict) {
        if (!started || held) {
            return false;
        }
        return !strict || failures.keys().stream().allMatch(loaded::serving);
    }
}
