package org.lstmcast.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.lstmcast.data.DataException;
import org.lstmcast.global.GlobalConfig;
import org.lstmcast.global.GlobalRun;
import org.lstmcast.global.Normaliser;
import org.lstmcast.model.Proof;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train-global",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Train one LSTM model across every series of a long table (id, time, value per row).",
            "",
            "Each window is normalised inside the model by its own level and seasonal profile, so one model forecasts "
                    + "series of any scale and any length from one value up. The last H values of every series are "
                    + "its test part and the H before them its validation part, as M3 and M4 score; the kept model is "
                    + "then trained again on every value and exported as one ONNX file, proven equal to it."},
        footer = {"", "Writes RUN/model.onnx, RUN/metrics.csv (one row per series), RUN/metrics.json, RUN/forecasts.csv "
                + "(each series' next H values) and RUN/members/.",
            "Exit codes: 0 done, 1 the run failed, 2 bad command line."})
final class TrainGlobalCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @CommandLine.Mixin
    ManyOptions many;

    @Option(names = "--horizon", paramLabel = "H", required = true, description = "Steps forecast at once, and the length of each series' test and validation parts.")
    int horizon;

    @Option(names = "--out", paramLabel = "RUN", required = true, description = "Folder for the run's files.")
    Path out;

    @Option(names = "--export", paramLabel = "REPO/NAME", description = "Also copy the model to a repository as REPO/NAME/<next version>/model.onnx.")
    Path export;

    @Option(names = "--lookback", paramLabel = "N", description = "Values each window reads for its seasonal profile and Theta forecast, rounded up to whole seasons (default: six horizons or four seasons, whichever is longer).")
    int lookback;

    @Option(names = "--steps", paramLabel = "N", description = "The last values of the window the network reads (default: two horizons or four seasons, whichever is longer).")
    int steps;

    @Option(names = "--season", paramLabel = "M", description = "Seasonal period (default: from the time labels of the longest series: 12 monthly, 4 quarterly, ...; 1 for none).")
    int season;

    @Option(names = "--scale", paramLabel = "S", description = "log or mean: how each window's scale is removed (default: log when every value is positive, else mean).")
    String scale;

    @Option(names = "--ensemble", paramLabel = "K", description = "Networks trained with seeds N, N+1, ... and averaged in one graph (default: ${DEFAULT-VALUE}).")
    int ensemble = GlobalDefaults.ENSEMBLE;

    @Option(names = "--layers", paramLabel = "N", description = "Stacked LSTM layers (default: ${DEFAULT-VALUE}).")
    int layers = 1;

    @Option(names = "--hidden", paramLabel = "N", description = "Units per LSTM layer (default: ${DEFAULT-VALUE}).")
    int hidden = GlobalDefaults.HIDDEN;

    @Option(names = "--epochs", paramLabel = "N", description = "Most epochs (default: ${DEFAULT-VALUE}).")
    int epochs = GlobalDefaults.EPOCHS;

    @Option(names = "--windows-per-epoch", paramLabel = "N", description = "Windows sampled per epoch (default: ${DEFAULT-VALUE}).")
    int windowsPerEpoch = GlobalDefaults.WINDOWS_PER_EPOCH;

    @Option(names = "--batch-size", paramLabel = "N", description = "Windows per minibatch (default: ${DEFAULT-VALUE}).")
    int batchSize = GlobalDefaults.BATCH;

    @Option(names = "--learning-rate", paramLabel = "X", description = "Adam learning rate (default: ${DEFAULT-VALUE}).")
    double learningRate = GlobalDefaults.LEARNING_RATE;

    @Option(names = "--patience", paramLabel = "N", description = "Stop after N epochs without a better validation loss, keeping the best (default: ${DEFAULT-VALUE}).")
    int patience = GlobalDefaults.PATIENCE;

    @Option(names = "--loss", paramLabel = "L", description = "mae or mse, in the normalised space (default: ${DEFAULT-VALUE}).")
    String loss = GlobalDefaults.LOSS;

    @Option(names = "--seed", paramLabel = "N", description = "Random seed (default: ${DEFAULT-VALUE}).")
    long seed = 42;

    @Option(names = "--threads", paramLabel = "N", description = "Members trained at once, one native thread each (default: the cores).")
    int threads = Runtime.getRuntime().availableProcessors();

    @Option(names = "--quiet", description = "No progress and no summary; errors still go to stderr.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        CommandLine cl = spec.commandLine();
        GlobalConfig config;
        try {
            config = new GlobalConfig(lookback, steps, season, horizon, scale == null ? null : Normaliser.Scale.parse(scale),
                    layers, hidden, epochs, batchSize, learningRate, patience, seed, ensemble, windowsPerEpoch,
                    GlobalConfig.Loss.valueOf(loss.trim().toUpperCase(Locale.ROOT)), threads);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        PrintWriter err = cl.getErr();
        GlobalRun.Summary s;
        try {
            s = GlobalRun.run(new GlobalRun.Job(many.data, many.format(cl), config, out, export, many.master), line -> {
                if (!quiet) {
                    err.println("train-global: " + line);
                    err.flush();
                }
            });
        } catch (NoClassDefFoundError e) {
            throw new DataException(ManyOptions.noSpark("train-global with --master or Parquet"));
        }
        if (!quiet) {
            PrintWriter o = cl.getOut();
            o.printf(Locale.ROOT, "Trained one model on %d series in %.1f s; %d scored on their last %d values.%n",
                    s.series(), s.seconds(), s.scored(), horizon);
            o.printf(Locale.ROOT, "%-16s %8s %8s%n", "method", "sMAPE", "MASE");
            for (String method : s.smape().keySet()) {
                o.printf(Locale.ROOT, "%-16s %8.3f %8.3f%n", method, s.smape().get(method), s.mase().get(method));
            }
            o.printf(Locale.ROOT, "proof: %d windows, max relative error %.3g (limit %.0e)%n", s.parity().windows(),
                    s.parity().maxRelError(), Proof.TOLERANCE);
            o.println("wrote:  " + s.model());
            if (s.exported() != null) {
                o.println("wrote:  " + s.exported());
            }
            o.flush();
        }
        return 0;
    }

    /** train-global's defaults, measured on M3 (docs/BENCHMARKS.md, "One model across series"). */
    static final class GlobalDefaults {
        static final int ENSEMBLE = 2;
        static final int HIDDEN = 48;
        static final int EPOCHS = 60;
        static final int WINDOWS_PER_EPOCH = 8192;
        static final int BATCH = 128;
        static final double LEARNING_RATE = 0.003;
        static final int PATIENCE = 8;
        static final String LOSS = "mae";

        private GlobalDefaults() {
        }
    }
}
