package org.lstmcast.spark;

/** Series finished out of the total, as the job goes; called from one thread. */
public interface Progress {
    Progress NONE = new Progress() {
        @Override
        public void started(int total) {
        }

        @Override
        public void done(long finished) {
        }
    };

    void started(int total);

    void done(long finished);

    /** Polls a counter that tasks add to and reports it until {@code work} returns. */
    static <T> T watch(Progress progress, int total, java.util.function.LongSupplier counter,
                       java.util.function.Supplier<T> work) {
        progress.started(total);
        java.util.concurrent.ScheduledExecutorService poller = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "lstmcast-progress");
                    t.setDaemon(true);
                    return t;
                });
        // Accumulators reach the driver as tasks end, and a retried task adds again: never report past the total.
        poller.scheduleWithFixedDelay(() -> progress.done(Math.min(total, counter.getAsLong())), 250, 250,
                java.util.concurrent.TimeUnit.MILLISECONDS);
        T result;
        try {
            result = work.get();
        } finally {
            poller.shutdownNow();
            try {
                poller.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        progress.done(Math.min(total, counter.getAsLong()));
        return result;
    }
}
