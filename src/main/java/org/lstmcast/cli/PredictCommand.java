package org.lstmcast.cli;

import java.io.PrintWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.lstmcast.Text;
import org.lstmcast.chart.Charts;
import org.lstmcast.data.Gaps;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.predict.Prediction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "predict",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Forecast what comes after the end of a CSV file with an ONNX model, read from its last rows.",
            "",
            "Beyond the model's own horizon a univariate model rolls forward on its own forecasts."},
        footer = {"", "Exit codes: 0 done, 1 failed (bad model or data), 2 bad command line."})
final class PredictCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--model", paramLabel = "FILE.onnx", required = true, description = "ONNX model (an lstmcast export, or any [batch, sequence, features] -> [batch, horizon] model).")
    Path model;

    @Option(names = "--data", paramLabel = "FILE.csv", required = true, description = "History, oldest row first; needs the model's input columns.")
    Path data;

    @Option(names = "--horizon", paramLabel = "H", description = "Steps to forecast (default: the model's horizon).")
    int horizon;

    @Option(names = "--out", paramLabel = "FILE.csv", description = "Write the forecast as CSV: step, time, forecast.")
    Path out;

    @Option(names = "--plot", paramLabel = "FILE.png", description = "Draw the recent history and the forecast.")
    Path plot;

    @Option(names = "--time-column", paramLabel = "COL", description = "Column with time labels (default: the model's, or one guessed by name).")
    String timeColumn;

    @Option(names = "--features", paramLabel = "COL", split = ",", description = "Input columns, for a model not made by lstmcast.")
    List<String> features;

    @Option(names = "--lookback", paramLabel = "N", description = "Rows to read, for a model not made by lstmcast that takes any sequence length.")
    int lookback;

    @Option(names = "--fill", paramLabel = "POLICY", description = "Gaps in the history (empty cells, missing time steps): none, previous, linear or zero, as train takes them (default: ${DEFAULT-VALUE}).")
    String fillPolicy = Gaps.Fill.NONE.id();

    @Override
    public Integer call() throws Exception {
        // 0 is the options' "not given": the model's own horizon, the model's own lookback.
        if (horizon != 0) {
            Checks.between(spec, "--horizon", horizon, 1, 100_000);
        }
        if (lookback != 0) {
            Checks.atLeast(spec, "--lookback", lookback, 1);
        }
        Gaps.Fill fill;
        try {
            fill = Gaps.Fill.parse(fillPolicy);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        Prediction.Result r = Prediction.predict(model, data, features, lookback, timeColumn, horizon, fill);
        if (r.history().filled().gaps() > 0) {
            spec.commandLine().getErr().println("predict: " + r.history().filled().describe());
            spec.commandLine().getErr().flush();
        }
        PrintWriter o = spec.commandLine().getOut();
        o.printf(Locale.ROOT, "%s after %s (last %d of %d rows):%n", r.spec().target(),
                r.history().times().get(r.history().rows() - 1), r.spec().lookback(), r.history().rows());
        Intervals iv = r.intervals();
        // bounds[l][0|1][h]; steps past the calibrated horizon widen the last one's, as the forecast API's do.
        int extrapolated = iv == null ? 0 : iv.extrapolatedFrom(r.forecast().length);
        double[][][] bounds = new double[iv == null ? 0 : iv.levels().length][][];
        List<String> header = new ArrayList<>(List.of("step", "time", "forecast"));
        for (int l = 0; l < bounds.length; l++) {
            bounds[l] = iv.boundsExtended(r.forecast(), l);
            header.add("lower_" + iv.levels()[l]);
            header.add("upper_" + iv.levels()[l]);
        }
        StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-5s %-14s %-12s", "step", "time", "forecast"));
        for (int l = 0; l < bounds.length; l++) {
            head.append(String.format(Locale.ROOT, " %-25s", iv.levels()[l] + "% interval"));
        }
        o.println(head.toString().stripTrailing());
        for (int h = 0; h < r.forecast().length; h++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-5d %-14s %-12.6g", h + 1, r.times().get(h),
                    r.forecast()[h]));
            for (double[][] b : bounds) {
                line.append(String.format(Locale.ROOT, " %-25s", String.format(Locale.ROOT, "%.6g .. %.6g%s",
                        b[0][h], b[1][h], extrapolated > 0 && h + 1 >= extrapolated ? " *" : "")));
            }
            o.println(line.toString().stripTrailing());
        }
        if (iv == null) {
            o.println("The model carries no calibrated prediction intervals.");
        }
        o.flush();
        if (extrapolated > 0) {
            PrintWriter err = spec.commandLine().getErr();
            err.printf(Locale.ROOT, "lstmcast predict: note: the intervals are calibrated for the model's %s; from step %d "
                    + "on (marked *) they are extrapolated: the last calibrated half-width times sqrt(step / %d)%n",
                    Text.plural(iv.horizon(), "step"), extrapolated, iv.horizon());
            err.flush();
        }
        if (out != null) {
            try (Writer w = Files.newBufferedWriter(out, StandardCharsets.UTF_8);
                 CSVPrinter csv = new CSVPrinter(w, CSVFormat.DEFAULT.builder().setHeader(header.toArray(new String[0])).get())) {
                for (int h = 0; h < r.forecast().length; h++) {
                    List<Object> row = new ArrayList<>(List.of(h + 1, r.times().get(h), r.forecast()[h]));
                    for (double[][] b : bounds) {
                        row.add(b[0][h]);
                        row.add(b[1][h]);
                    }
                    csv.printRecord(row);
                }
            }
        }
        if (plot != null) {
            int shown = Math.min(r.history().rows(), Math.max(5 * r.forecast().length, Math.max(3 * r.spec().lookback(), 120)));
            List<String> times = new ArrayList<>(r.history().times().subList(r.history().rows() - shown, r.history().rows()));
            double[] history = Arrays.copyOfRange(r.history().column(0), r.history().rows() - shown, r.history().rows());
            List<Charts.Band> bands = new ArrayList<>();
            for (int l = bounds.length - 1; l >= 0; l--) {
                bands.add(new Charts.Band(iv.levels()[l] + "% interval", bounds[l][0], bounds[l][1]));
            }
            Charts.ahead(plot, r.spec().target() + ": forecast of the next " + Text.plural(r.forecast().length, "step"),
                    r.spec().target(), times, history, r.times(), r.forecast(), bands);
        }
        return 0;
    }
}
