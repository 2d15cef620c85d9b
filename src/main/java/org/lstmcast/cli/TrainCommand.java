package org.lstmcast.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import org.apache.commons.codec.digest.DigestUtils;
import org.lstmcast.Text;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Gaps;
import org.lstmcast.data.Series;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.repository.ModelRepository;
import org.lstmcast.train.Report;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.Trainer;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "train",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Train an LSTM forecaster on a CSV file and evaluate it on the held-out end of the series.",
            "",
            "Rows split in time order: the last --test-fraction is the test part, the last --val-fraction of the "
                    + "rest steers early stopping, the remainder trains. Scalers see the training rows only. "
                    + "Without --data, trains on the bundled daily DAX index."},
        footer = {"", "Writes into DIR: model.zip, metrics.json, predictions.csv, forecast.png, loss.png.",
            "Exit codes: 0 done, 1 failed (bad data, I/O), 2 bad command line."})
final class TrainCommand implements Callable<Integer> {
    static final String BUNDLED = "bundled/eustockmarkets_daily.csv";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--data", paramLabel = "FILE.csv", description = "CSV file with a header row (default: the bundled EuStockMarkets data).")
    Path data;

    @Option(names = "--target", paramLabel = "COL", description = "Column to forecast (default with the bundled data: DAX).")
    String target;

    @Option(names = "--features", paramLabel = "COL", split = ",", description = "Extra input columns, comma-separated; the target is always an input.")
    List<String> features = new ArrayList<>();

    @Option(names = "--time-column", paramLabel = "COL", description = "Column with time labels (default: the first column named date, time, timestamp, datetime, ds, t, month, week, day or year).")
    String timeColumn;

    @CommandLine.Mixin
    TrainOptions training;

    @Option(names = "--threads", paramLabel = "N", description = "Native threads for training (default: OMP_NUM_THREADS if set, else 1; one thread is fastest for networks of this size).")
    Integer threads;

    @Option(names = "--quiet", description = "No progress bar, no table and no export report; errors still go to stderr.")
    boolean quiet;

    @Option(names = "--out", paramLabel = "DIR", required = true, description = "Run directory to write (replaced if it holds an earlier run).")
    Path out;

    @Option(names = "--export", paramLabel = "REPO/NAME", description = "Also export to ONNX as the next version in a model repository: REPO/NAME/<version>/model.onnx.")
    Path export;

    @Override
    public Integer call() throws Exception {
        TrainConfig config = config();
        Gaps.Fill fill = training.fill(spec.commandLine());
        if (export != null) {
            // A name the repository cannot hold is said before the training, not after it.
            ModelRepository.outputFile(export, "--export");
        }
        int ndThreads = threads != null ? threads : ompThreads();
        if (threads != null || System.getenv("OMP_NUM_THREADS") == null) {
            Trainer.useThreads(threads == null ? 1 : threads);
        }
        // The members of an ensemble are independent: as many train at once as the cores hold trainings.
        TrainingRun.parallelMembers(Math.max(1, Runtime.getRuntime().availableProcessors() / ndThreads));
        byte[] csv;
        String source;
        if (data == null) {
            try (InputStream in = TrainCommand.class.getClassLoader().getResourceAsStream(BUNDLED)) {
                if (in == null) {
                    throw new DataException("the bundled data is missing from this build");
                }
                csv = in.readAllBytes();
            }
            source = "bundled:eustockmarkets_daily.csv";
        } else {
            try {
                if (Files.isDirectory(data)) {
                    throw new DataException(data + ": is a directory, not a CSV file");
                }
                csv = Files.readAllBytes(data);
            } catch (NoSuchFileException e) {
                throw new DataException(data + ": no such file");
            }
            source = data.toString();
        }
        Series series = TrainingRun.read(csv, source, config, timeColumn, fill);
        PrintWriter err = spec.commandLine().getErr();
        if (!quiet && series.filled().gaps() > 0) {
            err.println("train: " + series.filled().describe());
            err.flush();
        }
        TrainingListener progress = quiet ? TrainingListener.NONE : Progress.create(err);
        TrainingRun.Outcome outcome = TrainingRun.run(series, DigestUtils.sha256Hex(csv), timeColumn, config, out,
                progress);
        if (!quiet) {
            PrintWriter o = spec.commandLine().getOut();
            // Windows, not rows, is what the export's proof counts: the first test rows are also forecast from origins
            // up to horizon - 1 rows before the test part, so there are horizon - 1 more windows than rows.
            o.printf(Locale.ROOT, "Kept: %s; %s. %.1f s in all.%n", outcome.kept(), written(outcome),
                    outcome.seconds());
            if (outcome.training().epochsRun() > 0) {
                o.printf(Locale.ROOT, "Trained %s (best %d)%s.%n",
                        Text.plural(outcome.training().epochsRun(), "epoch"),
                        outcome.training().bestEpoch(), anchorAlone(outcome) ? ", then kept the anchor alone" : "");
            }
            if (outcome.metrics().get("transform") instanceof Map<?, ?> t
                    && t.get("fitted_to_the_data") != null) {
                o.printf(Locale.ROOT, "Fitted to the %s rows: %s.%n", ((Map<?, ?>) outcome.metrics().get("data"))
                        .get("rows"), t.get("fitted_to_the_data"));
            }
            o.printf(Locale.ROOT, "Test part: %s, forecast from %s (rolling origin) by the model fitted without "
                            + "them, in original units.%n",
                    Text.plural(outcome.evaluation().testRows().length, "row"),
                    Text.plural(outcome.evaluation().windows(), "test window"));
            o.printf(Locale.ROOT, "Season: %s (%s).%n", outcome.season().period() == 0 ? "none"
                    : Integer.toString(outcome.season().period()), outcome.season().reason());
            o.print(Report.transform(outcome.metrics()));
            o.print(Report.table(outcome.evaluation(), !anchorAlone(outcome) ? "lstm"
                    : outcome.kept().startsWith("naive") ? "naive alone" : outcome.kept().startsWith("drift")
                    ? "drift" : "anchor"));
            o.print(Report.intervals(outcome.intervals(), outcome.evaluation()));
            calibrationWarnings(outcome).forEach(o::println);
            o.println("Wrote " + outcome.directory());
            o.flush();
        }
        if (export != null) {
            Path file = ModelRepository.outputFile(export, "--export");
            try {
                return Reports.exportWithProof(spec.commandLine(), out.resolve("model.zip"), file, quiet).ok() ? 0 : 1;
            } catch (Exception | Error e) {
                // A version folder left empty would be taken for a model that failed to load.
                try {
                    Files.deleteIfExists(file.getParent());
                } catch (IOException notEmpty) {
                    // Something else was written there: left as it is.
                }
                throw e;
            }
        }
        return 0;
    }

    /**
     * A warning per interval level whose calibration lacks the forecasts its coverage guarantee needs, as metrics.json's
     * {@code intervals.enough_calibration_windows} says, so that stdout does not read as an unqualified success.
     */
    static List<String> calibrationWarnings(TrainingRun.Outcome outcome) {
        if (!(outcome.metrics().get("intervals") instanceof Map<?, ?> intervals)
                || !(intervals.get("enough_calibration_windows") instanceof Map<?, ?> enough)) {
            return List.of();
        }
        int fewest = Arrays.stream(outcome.intervals().calibrationWindows()).min().orElse(0);
        List<String> out = new ArrayList<>();
        enough.forEach((level, ok) -> {
            if (Boolean.FALSE.equals(ok)) {
                int percent = Integer.parseInt(String.valueOf(level));
                out.add(String.format(Locale.ROOT, "Warning: the %d%% interval is calibrated on %s per step, fewer than "
                                + "the %d its coverage guarantee needs: its width is an estimate (the larger of the widest "
                                + "error seen and a Student's t bound). More validation rows (--val-fraction, or more data) "
                                + "give it the guarantee.", percent, Text.plural(fewest, "validation forecast"),
                        neededForGuarantee(percent)));
            }
        });
        return out;
    }

    /** The fewest calibration forecasts that give a level its finite-sample guarantee. */
    static int neededForGuarantee(int percent) {
        int n = 1;
        // Every level below 100 is reached (99% at 99 forecasts); the bound only keeps a level of 100 from looping.
        while (n < 1_000_000 && !Intervals.guaranteed(n, percent)) {
            n++;
        }
        return n;
    }

    /** The native threads ND4J takes from {@code OMP_NUM_THREADS} when --threads is absent; 1 when it is unset. */
    private static int ompThreads() {
        try {
            return Math.max(1, Integer.parseInt(System.getenv().getOrDefault("OMP_NUM_THREADS", "1").trim()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }

    /** Which model model.zip holds: the final fit on every row, or the evaluated one. */
    private static String written(TrainingRun.Outcome outcome) {
        Map<?, ?> e = (Map<?, ?>) outcome.metrics().get("exported");
        return "final".equals(e.get("model")) ? "written as fitted once more on all " + e.get("rows") + " rows"
                : "written as evaluated, fitted on the " + e.get("rows") + " rows before the test part";
    }

    private static boolean anchorAlone(TrainingRun.Outcome outcome) {
        return outcome.networks() == 0;
    }

    private TrainConfig config() {
        String t = target;
        if (t == null) {
            if (data != null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--target is required with --data");
            }
            t = "DAX";
        }
        return training.config(spec.commandLine(), t, features);
    }
}
