package org.lstmcast.many;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/** Series finished out of the total, as the job goes; called from one thread. */
public interface JobProgress {
    JobProgress NONE = new JobProgress() {
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
    static <T> T watch(JobProgress progress, int total, LongSupplier counter,
                       Supplier<T> work) {
        progress.started(total);
        ScheduledExecutorService poller = Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "lstmcast-progress");
                    t.setDaemon(true);
                    return t;
                });
        // Accumulators reach the driver as tasks end, and a retried task adds again: never report past the total.
        poller.scheduleWithFixedDelay(() -> progress.done(Math.min(total, counter.getAsLong())), 250, 250,
                TimeUnit.MILLISECONDS);
        T result;
        try {
            result = work.get();
        } finally {
            poller.shutdownNow();
            try {
                poller.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        progress.done(Math.min(total, counter.getAsLong()));
        return result;
    }
}
