package org.lstmcast.cli;

import java.io.PrintWriter;
import java.util.Locale;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.lstmcast.many.JobProgress;

/** Series done out of the total on stderr: a live bar on a terminal, a line at most every few seconds in logs. */
final class ManyProgress {
    private ManyProgress() {
    }

    static JobProgress create(PrintWriter err, String task) {
        return System.console() != null ? new Bar(task) : new Lines(err, task);
    }

    private static final class Bar implements JobProgress {
        private final String task;
        private ProgressBar bar;

        Bar(String task) {
            this.task = task;
        }

        @Override
        public void started(int total) {
            bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setUnit(" series", 1)
                    .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                    .setConsumer(new ConsoleProgressBarConsumer(System.err)).setUpdateIntervalMillis(200).build();
        }

        @Override
        public void done(long finished) {
            bar.stepTo(finished);
            if (finished >= bar.getMax()) {
                bar.close();
            }
        }
    }

    private static final class Lines implements JobProgress {
        private final PrintWriter err;
        private final String task;
        private int total;
        private long shown = -1;
        private long shownAt;

        Lines(PrintWriter err, String task) {
            this.err = err;
            this.task = task;
        }

        @Override
        public void started(int total) {
            this.total = total;
            err.printf(Locale.ROOT, "%s: %d series%n", task, total);
            err.flush();
        }

        @Override
        public void done(long finished) {
            long now = System.nanoTime();
            if (finished != shown && (finished >= total || now - shownAt > 5_000_000_000L)) {
                err.printf(Locale.ROOT, "%s: %d/%d series done%n", task, finished, total);
                err.flush();
                shown = finished;
                shownAt = now;
            }
        }
    }
}
