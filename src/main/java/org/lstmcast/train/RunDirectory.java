package org.lstmcast.train;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.lstmcast.Version;
import org.lstmcast.chart.Charts;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Series;
import org.lstmcast.data.Split;
import org.lstmcast.data.TimeAxis;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.Intervals;

/**
 * A run directory: {@link TrainingRun#OUTPUTS}, written into a sibling temporary directory that is renamed into place
 * at the end, so that the directory appears complete or not at all.
 */
final class RunDirectory {
    private RunDirectory() {
    }

    /**
     * What the files hold.
     *
     * @param timeColumn  the time column's name as given: null to guess one, "" for none
     * @param trained     the evaluated model's training, whose loss curves loss.png draws
     * @param lossOf      the transform of the network whose loss curves those are; null where none was trained
     * @param anchorDrift null where a network was kept; for the anchor alone, its drift
     * @param exported    the model written into model.zip
     * @param finalFit    whether {@code exported} was fitted on every row
     */
    record Contents(Series series, TimeAxis time, Split split, TrainConfig config, String timeColumn, String sha256,
                    Evaluation evaluation, Intervals intervals, Trainer.Result trained, Transform lossOf,
                    AnchorDrift anchorDrift, String kept, Forecaster exported, boolean finalFit,
                    Map<String, Object> metrics) {
    }

    /** Writes the run directory {@code outDir}, replacing an earlier run there. */
    static void write(Path outDir, Contents c) throws IOException {
        Path parent = outDir.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempDirectory(parent, "." + outDir.getFileName() + ".tmp-");
        try {
            // A temporary directory is private (rwx------); the finished run should read like any other directory.
            if (staging.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
            }
            writeModel(staging.resolve("model.zip"), c);
            ModelFile.JSON.writeValue(staging.resolve("metrics.json").toFile(), c.metrics());
            writePredictions(staging.resolve("predictions.csv"), c.series(), c.evaluation(), c.intervals());
            writeCharts(staging, c);
            replace(staging, outDir);
        } catch (IOException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
    }

    private static void writeModel(Path file, Contents c) throws IOException {
        TrainConfig config = c.config();
        Preprocessor written = c.exported().preprocessor();
        ModelFile.Info info = new ModelFile.Info(ModelFile.Info.formatFor(written), Version.get(),
                Instant.now().truncatedTo(ChronoUnit.SECONDS).toString(), config.target(),
                config.inputColumns(), timeColumnName(c.timeColumn()), config.transform().id(),
                config.lookback(), config.horizon(), config.season(),
                written.inShift(), written.inScale(), written.outShift(), written.outScale(),
                c.series().source(), c.sha256(), config.asMap(), RunMetrics.testSummary(c.evaluation()),
                testHistory(config), ModelFile.JSON.valueToTree(c.intervals().toJson()), written.anchorCarry(),
                written.windowDrift(),
                c.anchorDrift() != null ? "none: " + c.anchorDrift().kept(config.transform()) : c.kept(),
                c.finalFit() ? "every row" : "the rows before the test part");
        ModelFile.save(file, c.exported().networks(), info,
                testRows(c.series(), c.split().valEnd() - testHistory(config)));
    }

    private static void writeCharts(Path staging, Contents c) throws IOException {
        Series series = c.series();
        Evaluation evaluation = c.evaluation();
        Intervals intervals = c.intervals();
        TrainConfig config = c.config();
        AnchorDrift anchorDrift = c.anchorDrift();
        Transform lossOf = c.lossOf();
        String kept = c.kept();
        double[] step1 = new double[series.rows()];
        Arrays.fill(step1, Double.NaN);
        for (int i = 0; i < evaluation.testRows().length; i++) {
            step1[evaluation.testRows()[i]] = evaluation.forecasts()[i][0];
        }
        List<Charts.Band> bands = new ArrayList<>();
        for (int l = intervals.levels().length - 1; l >= 0; l--) {
            double[] lower = new double[series.rows()];
            double[] upper = new double[series.rows()];
            Arrays.fill(lower, Double.NaN);
            Arrays.fill(upper, Double.NaN);
            for (int i = 0; i < evaluation.testRows().length; i++) {
                double half = intervals.halfWidth(step1[evaluation.testRows()[i]], 0, l);
                lower[evaluation.testRows()[i]] = step1[evaluation.testRows()[i]] - half;
                upper[evaluation.testRows()[i]] = step1[evaluation.testRows()[i]] + half;
            }
            bands.add(new Charts.Band(intervals.levels()[l] + "% interval, 1 step ahead", lower, upper));
        }
        Charts.forecast(staging.resolve("forecast.png"),
                config.target() + ": one-step-ahead test forecasts (" + (anchorDrift != null ? "the anchor alone"
                        : "LSTM") + ", " + config.transform().id() + ")",
                config.target(), c.time(), series.column(0), step1, (anchorDrift != null ? "seasonal anchor"
                        : "LSTM") + " forecast, 1 step ahead",
                c.split().trainEnd(), c.split().valEnd(), bands);
        Charts.loss(staging.resolve("loss.png"), lossOf == null ? "No network was trained: the series is too short; "
                + "kept: " + kept : anchorDrift != null ? "Loss per epoch of the best network, " + lossOf.id()
                + ", not kept: " + kept : "Loss per epoch of the kept " + lossOf.id() + " network (MSE on scaled values)",
                c.trained().trainLoss(), c.trained().valLoss(), c.trained().bestEpoch());
    }

    /** Fails before any training when the run directory could not be written. */
    static void check(Path outDir) throws IOException {
        if (Files.exists(outDir) && !Files.isDirectory(outDir)) {
            throw new DataException(outDir + ": exists and is not a directory");
        }
        if (Files.isDirectory(outDir) && !isEmptyOrRun(outDir)) {
            throw new DataException(outDir + ": exists and is not an lstmcast run directory; choose another --out");
        }
    }

    private static boolean isEmptyOrRun(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            List<Path> list = entries.toList();
            return list.isEmpty() || list.stream().anyMatch(p -> p.getFileName().toString().equals("metrics.json"))
                    && list.stream().allMatch(p -> TrainingRun.OUTPUTS.contains(p.getFileName().toString()));
        }
    }

    /** Rows before the test part that its first forecasts read: the longest step back plus the window. */
    private static int testHistory(TrainConfig config) {
        return config.horizon() + config.lookback() - 1;
    }

    private static Series testRows(Series series, int from) {
        return new Series(series.source(), series.columns(), series.times().subList(from, series.rows()),
                Arrays.copyOfRange(series.values(), from, series.rows()));
    }

    private static String timeColumnName(String timeColumn) {
        return timeColumn == null || timeColumn.isEmpty() ? null : timeColumn;
    }

    private static void writePredictions(Path file, Series series, Evaluation ev, Intervals intervals) throws IOException {
        int horizon = ev.forecasts()[0].length;
        List<String> header = new ArrayList<>(List.of("time", "actual"));
        for (int h = 1; h <= horizon; h++) {
            header.add("forecast_" + h);
        }
        for (int level : intervals.levels()) {
            for (int h = 1; h <= horizon; h++) {
                header.add("lower_" + level + "_" + h);
                header.add("upper_" + level + "_" + h);
            }
        }
        CSVFormat format = CSVFormat.DEFAULT.builder().setHeader(header.toArray(new String[0])).get();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8); CSVPrinter out = new CSVPrinter(w, format)) {
            for (int i = 0; i < ev.testRows().length; i++) {
                List<Object> row = new ArrayList<>();
                row.add(series.times().get(ev.testRows()[i]));
                row.add(ev.actual()[i]);
                for (int h = 0; h < horizon; h++) {
                    row.add(ev.forecasts()[i][h]);
                }
                for (int l = 0; l < intervals.levels().length; l++) {
                    for (int h = 0; h < horizon; h++) {
                        double half = intervals.halfWidth(ev.forecasts()[i][h], h, l);
                        row.add(ev.forecasts()[i][h] - half);
                        row.add(ev.forecasts()[i][h] + half);
                    }
                }
                out.printRecord(row);
            }
        }
    }

    private static void replace(Path staging, Path outDir) throws IOException {
        Path target = outDir.toAbsolutePath();
        Path old = null;
        if (Files.exists(target)) {
            old = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".old-");
            Files.delete(old);
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        if (old != null) {
            deleteTree(old);
        }
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException | UncheckedIOException e) {
            // Best effort: a leftover temporary directory is harmless and named as such.
        }
    }
}
