package org.lstmcast.cli;

import java.io.PrintWriter;
import java.util.Locale;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.lstmcast.train.TrainingListener;

/** Training progress on stderr: a live bar on a terminal, one line per epoch in logs. */
final class Progress {
    private Progress() {
    }

    static TrainingListener create(PrintWriter err) {
        return System.console() != null ? new Bar() : new Lines(err);
    }

    private static String losses(double train, double val) {
        return String.format(Locale.ROOT, "loss %.5f  val %.5f", train, val);
    }

    private static ProgressBar bar(String task, int max, String unit) {
        return new ProgressBarBuilder()
                .setTaskName(task)
                .setInitialMax(max)
                .setUnit(unit, 1)
                .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
                .setConsumer(new ConsoleProgressBarConsumer(System.err))
                .setUpdateIntervalMillis(200)
                .build();
    }

    private static final class Bar implements TrainingListener {
        private ProgressBar bar;
        private double bestVal = Double.NaN;

        @Override
        public void started(int maxEpochs) {
            bar = bar("train", maxEpochs, " epochs");
        }

        @Override
        public void epochEnded(int epoch, double trainLoss, double valLoss, boolean best) {
            if (best) {
                bestVal = valLoss;
            }
            bar.stepTo(epoch);
            bar.setExtraMessage(losses(trainLoss, valLoss) + String.format(Locale.ROOT, "  best %.5f", bestVal));
        }

        @Override
        public void finished(int epochsRun, int bestEpoch) {
            bar.maxHint(epochsRun);
            bar.stepTo(epochsRun);
            bar.close();
        }

        @Override
        public void membersStarted(int members, int atOnce, boolean refit) {
            bar = bar(refit ? "refit" : "ensemble", members, " networks");
            bar.setExtraMessage(atOnce + " at a time");
        }

        @Override
        public void memberFinished(int done, int members) {
            bar.stepTo(done);
            if (done == members) {
                bar.close();
            }
        }
    }

    private static final class Lines implements TrainingListener {
        private final PrintWriter err;
        private int max;
        private String stage = "ensemble";

        Lines(PrintWriter err) {
            this.err = err;
        }

        @Override
        public void started(int maxEpochs) {
            max = maxEpochs;
        }

        @Override
        public void epochEnded(int epoch, double trainLoss, double valLoss, boolean best) {
            err.printf(Locale.ROOT, "epoch %d/%d  %s%s%n", epoch, max, losses(trainLoss, valLoss), best ? "  *" : "");
            err.flush();
        }

        @Override
        public void finished(int epochsRun, int bestEpoch) {
            if (epochsRun < max) {
                err.printf(Locale.ROOT, "stopped early after epoch %d; restored epoch %d%n", epochsRun, bestEpoch);
            }
            err.flush();
        }

        @Override
        public void membersStarted(int members, int atOnce, boolean refit) {
            stage = refit ? "refit" : "ensemble";
            err.printf(Locale.ROOT, refit ? "refit: training %s on the training and validation rows, %d at a time%n"
                    : "ensemble: training %s, %d at a time%n", org.lstmcast.Text.plural(members,
                    refit ? "network" : "more network", refit ? "networks" : "more networks"), atOnce);
            err.flush();
        }

        @Override
        public void memberFinished(int done, int members) {
            err.printf(Locale.ROOT, "%s: %d/%d networks trained%n", stage, done, members);
            err.flush();
        }
    }
}
