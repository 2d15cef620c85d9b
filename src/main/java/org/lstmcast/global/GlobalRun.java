package org.lstmcast.global;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.deeplearning4j.util.ModelSerializer;
import org.lstmcast.Version;
import org.lstmcast.data.DataException;
import org.lstmcast.data.FutureTimes;
import org.lstmcast.data.Seasons;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.many.LongFormat;
import org.lstmcast.metrics.Metrics;
import org.lstmcast.model.Proof;
import org.lstmcast.repository.ModelRepository;
import org.lstmcast.train.Trainer;

/**
 * {@code train-global}: one model learned across every series of a long table, evaluated as M3 and M4 evaluate.
 *
 * <p>Each series' last {@code H} values are its test part and the {@code H} before them its validation part (a series
 * too short for both keeps what it can: the test part needs two values before it, the validation part two more).
 * The members train on everything before the validation parts and stop early on them; the test parts score that
 * model against naive, seasonal naive and Theta alone (the model's statistical member); the intervals are calibrated on the validation
 * forecasts. Then every member trains again, from its seed, on every value of every series for the epochs it chose,
 * so the exported model has seen each series to its end. The export is proven against that model before it is written.
 */
public final class GlobalRun {
    /**
     * @param export a model folder {@code REPO/NAME} for the next version, null for none
     */
    public record Job(String data, LongFormat format, GlobalConfig config, Path out, Path export, String master) {
    }

    /** What a run produced, for the command to print. */
    public record Summary(int series, int scored, int season, String seasonReason, int lookback, String scale,
                          Map<String, Double> smape, Map<String, Double> mase, int[] epochs, Proof.Parity parity,
                          Path model, Path exported, double seconds) {
    }

    private static final List<String> METHODS = List.of("global", "theta", "naive", "seasonal_naive");
    private static final List<String> HEADER = List.of("id", "rows", "test_rows", "smape_global", "smape_theta",
            "smape_naive", "smape_seasonal_naive", "mase_global", "mase_theta", "mase_naive", "mase_seasonal_naive",
            "rmse_global", "rmse_theta", "rmse_naive", "rmse_seasonal_naive");

    private GlobalRun() {
    }

    public static Summary run(Job job, Consumer<String> log) throws Exception {
        long started = System.nanoTime();
        List<SeriesTable.Entry> table = SeriesTable.read(job.data(), job.format(), job.master());
        GlobalConfig config = job.config();
        int horizon = config.horizon();
        Seasons.Period period = season(table, config.season());
        int m = Math.max(1, period.period());
        int lookback = config.lookback() > 0 ? roundUp(config.lookback(), m) : Normaliser.defaultLookback(m, horizon);
        Normaliser.Scale scale = config.scale() != null ? config.scale() : allPositive(table) ? Normaliser.Scale.LOG
                : Normaliser.Scale.MEAN;
        if (scale == Normaliser.Scale.LOG && !allPositive(table)) {
            throw new DataException("--scale log needs positive values; the table has zeros or negative values (use "
                    + "--scale mean)");
        }
        int steps = config.steps() > 0 ? Math.min(config.steps(), lookback) : Normaliser.defaultSteps(m, horizon, lookback);
        Normaliser norm = new Normaliser(lookback, steps, m, horizon, scale);
        log.accept(String.format(Locale.ROOT, "%d series, season %d (%s), lookback %d (the network reads the last %d), "
                        + "horizon %d, scale %s", table.size(), m, period.reason(), lookback, steps, horizon,
                scale.label()));

        // The M3/M4 split: test = the last H, validation = the H before, each only where the series leaves two values.
        List<double[]> fitSeries = new ArrayList<>();
        List<double[]> valHistories = new ArrayList<>();
        List<double[]> valFutures = new ArrayList<>();
        List<Integer> scoredIndex = new ArrayList<>();
        for (int i = 0; i < table.size(); i++) {
            double[] v = table.get(i).values();
            int test = v.length >= horizon + 2 ? horizon : 0;
            int val = v.length - test >= horizon + 2 ? horizon : 0;
            int end = v.length - test - val;
            double[] fit = Arrays.copyOf(v, end);
            fitSeries.add(fit);
            if (val > 0) {
                valHistories.add(fit);
                valFutures.add(Arrays.copyOfRange(v, end, end + val));
            }
            if (test > 0) {
                scoredIndex.add(i);
            }
        }
        GlobalTrainer.Validation validation = new GlobalTrainer.Validation(valHistories, valFutures);
        Trainer.useThreads(1);
        log.accept(String.format(Locale.ROOT, "training %d network%s on the values before the validation parts "
                        + "(%d series validate)", config.ensemble(), config.ensemble() == 1 ? "" : "s",
                validation.histories().size()));
        List<GlobalTrainer.Member> chosen = GlobalTrainer.train(norm, fitSeries, validation, config, null,
                config.threads(), null);
        int[] epochs = chosen.stream().mapToInt(GlobalTrainer.Member::bestEpoch).toArray();
        GlobalForecaster evaluated = new GlobalForecaster(chosen.stream().map(GlobalTrainer.Member::network).toList(), norm);

        // Scores on the test parts, from the model that saw neither them nor the validation parts.
        List<double[]> testHistories = new ArrayList<>();
        for (int i : scoredIndex) {
            double[] v = table.get(i).values();
            testHistories.add(Arrays.copyOf(v, v.length - horizon));
        }
        double[][] global = evaluated.forecast(testHistories);
        double[][] theta = evaluated.theta(testHistories);
        List<List<Object>> rows = new ArrayList<>();
        // Per method: the sum of sMAPE over the scored series and of MASE over those with a MASE scale.
        Map<String, double[]> sums = new LinkedHashMap<>();
        for (String method : METHODS) {
            sums.put(method, new double[2]);
        }
        int masedSeries = 0;
        for (int j = 0; j < scoredIndex.size(); j++) {
            SeriesTable.Entry e = table.get(scoredIndex.get(j));
            double[] history = testHistories.get(j);
            double[] actual = Arrays.copyOfRange(e.values(), history.length, e.values().length);
            Map<String, double[]> f = new LinkedHashMap<>();
            f.put("global", global[j]);
            f.put("theta", theta[j]);
            f.put("naive", naive(history, horizon, 1));
            f.put("seasonal_naive", naive(history, horizon, m));
            int lag = history.length > m ? m : 1;
            double maseScale = history.length > lag ? Metrics.maseScale(history, lag) : Double.NaN;
            List<Object> row = new ArrayList<>(List.of(e.id(), e.values().length, horizon));
            List<Object> mase = new ArrayList<>();
            List<Object> rmse = new ArrayList<>();
            boolean masable = maseScale > 0;
            if (masable) {
                masedSeries++;
            }
            for (String method : METHODS) {
                double s = Metrics.smape(actual, f.get(method));
                double ms = masable ? Metrics.mase(actual, f.get(method), maseScale) : Double.NaN;
                double r = Metrics.rmse(actual, f.get(method));
                row.add(round(s));
                mase.add(round(ms));
                rmse.add(round(r));
                sums.get(method)[0] += s;
                if (masable) {
                    sums.get(method)[1] += ms;
                }
            }
            row.addAll(mase);
            row.addAll(rmse);
            rows.add(row);
        }
        Map<String, Double> smape = new LinkedHashMap<>();
        Map<String, Double> mase = new LinkedHashMap<>();
        for (String method : METHODS) {
            smape.put(method, scoredIndex.isEmpty() ? Double.NaN : sums.get(method)[0] / scoredIndex.size());
            mase.put(method, masedSeries == 0 ? Double.NaN : sums.get(method)[1] / masedSeries);
        }

        // Split-conformal intervals across series, relative to the forecast: scale-free, as the model is.
        Intervals intervals = null;
        Map<String, Object> coverage = null;
        if (!validation.isEmpty()) {
            double[][] valForecast = evaluated.forecast(valHistories);
            int n = valHistories.size();
            double[][] f = new double[horizon][n];
            double[][] a = new double[horizon][n];
            for (int i = 0; i < n; i++) {
                for (int h = 0; h < horizon; h++) {
                    f[h][i] = valForecast[i][h];
                    a[h][i] = valFutures.get(i)[h];
                }
            }
            intervals = Intervals.fit(Intervals.DEFAULT_LEVELS, true, f, a);
            if (!scoredIndex.isEmpty()) {
                coverage = coverage(intervals, global, scoredIndex, table, horizon);
            }
        }

        log.accept(String.format(Locale.ROOT, "kept epochs %s; training again on every value",
                Arrays.toString(epochs)));
        List<GlobalTrainer.Member> finals = GlobalTrainer.train(norm, table.stream().map(SeriesTable.Entry::values).toList(),
                new GlobalTrainer.Validation(List.of(), List.of()), config, epochs, config.threads(), null);
        GlobalForecaster model = new GlobalForecaster(finals.stream().map(GlobalTrainer.Member::network).toList(), norm);

        Path out = job.out();
        Files.createDirectories(out);
        Map<String, Object> testMetrics = new LinkedHashMap<>();
        testMetrics.put("series", scoredIndex.size());
        testMetrics.put("smape", rounded(smape));
        testMetrics.put("mase", rounded(mase));
        Map<String, String> metadata = metadata(job, norm, table.size(), period, testMetrics, intervals, config);
        OnnxMl.ModelProto proto = GlobalExporter.export(model, intervals, docString(job.format().target(), norm),
                metadata);
        Path onnx = out.resolve(ModelRepository.MODEL_FILE);
        byte[] bytes = proto.toByteArray();
        // Both sides read the float32 values the graph receives; each history is one window [length][1].
        List<double[][]> windows = new ArrayList<>();
        for (double[] h : proofHistories(table, horizon)) {
            double[][] w = new double[h.length][1];
            for (int t = 0; t < h.length; t++) {
                w[t][0] = (float) h[t];
            }
            windows.add(w);
        }
        Proof.Parity parity = Proof.prove(bytes, windows, ws -> model.forecast(ws.stream().map(GlobalRun::column).toList()),
                intervals);
        if (!parity.ok()) {
            throw new Proof.ParityException(parity, "the Java model");
        }
        ModelRepository.write(onnx, bytes);
        log.accept(String.format(Locale.ROOT, "proof: %d windows through ONNX Runtime against the Java model: max abs "
                + "error %.3g, max relative error %.3g", parity.windows(), parity.maxAbsError(), parity.maxRelError()));

        Path members = out.resolve("members");
        Files.createDirectories(members);
        for (int i = 0; i < finals.size(); i++) {
            ModelSerializer.writeModel(finals.get(i).network(), members.resolve("member-" + (i + 1) + ".zip").toFile(),
                    false);
        }
        writeCsv(out.resolve("metrics.csv"), HEADER, rows);
        writeForecasts(out.resolve("forecasts.csv"), table, model, horizon);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("series", table.size());
        json.put("scored_series", scoredIndex.size());
        json.put("validated_series", validation.histories().size());
        json.put("season", Map.of("period", m, "from", config.season() > 0 ? "--season" : period.reason()));
        json.put("lookback", lookback);
        json.put("network_steps", steps);
        json.put("horizon", horizon);
        json.put("scale", scale.label());
        json.put("test", testMetrics);
        json.put("epochs_kept", epochs);
        json.put("train_loss", chosen.stream().map(GlobalTrainer.Member::trainLoss).toList());
        json.put("validation_loss", chosen.stream().map(GlobalTrainer.Member::valLoss).toList());
        if (intervals != null) {
            Map<String, Object> iv = new LinkedHashMap<>(intervals.toJson());
            if (coverage != null) {
                iv.put("test_coverage", coverage);
            }
            json.put("intervals", iv);
        }
        json.put("proof", Map.of("windows", parity.windows(), "values", parity.values(), "max_abs_error",
                parity.maxAbsError(), "max_rel_error", parity.maxRelError()));
        json.put("config", config);
        double seconds = (System.nanoTime() - started) / 1e9;
        json.put("seconds", round(seconds));
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(out.resolve("metrics.json").toFile(), json);

        Path exported = null;
        if (job.export() != null) {
            exported = ModelRepository.nextVersionFile(job.export());
            ModelRepository.write(exported, Files.readAllBytes(onnx));
        }
        return new Summary(table.size(), scoredIndex.size(), m, period.reason(), lookback, scale.label(), smape, mase,
                epochs, parity, onnx, exported, seconds);
    }

    /** The season from {@code --season}, else read from the longest series' labels, as {@code train} reads one. */
    private static Seasons.Period season(List<SeriesTable.Entry> table, int season) {
        if (season > 0) {
            return new Seasons.Period(season == 1 ? 0 : season, "--season");
        }
        SeriesTable.Entry longest = table.get(0);
        for (SeriesTable.Entry e : table) {
            if (e.values().length > longest.values().length) {
                longest = e;
            }
        }
        return Seasons.of(longest.times());
    }

    private static boolean allPositive(List<SeriesTable.Entry> table) {
        for (SeriesTable.Entry e : table) {
            for (double v : e.values()) {
                if (!(v > 0)) {
                    return false;
                }
            }
        }
        return true;
    }

    private static int roundUp(int n, int m) {
        return (n + m - 1) / m * m;
    }

    /** The value {@code lag} steps before each step, repeated: naive (lag 1) and seasonal naive. */
    static double[] naive(double[] history, int horizon, int lag) {
        int l = Math.min(lag, history.length);
        double[] out = new double[horizon];
        for (int h = 0; h < horizon; h++) {
            out[h] = history[history.length - l + h % l];
        }
        return out;
    }

    /**
     * Windows the proof runs: every series' whole history, its history before the test part, and its first one,
     * two and three values, so lengths below, at and above the lookback all pass through the padding.
     */
    private static List<double[]> proofHistories(List<SeriesTable.Entry> table, int horizon) {
        List<double[]> out = new ArrayList<>();
        for (SeriesTable.Entry e : table) {
            double[] v = e.values();
            out.add(v);
            if (v.length > horizon) {
                out.add(Arrays.copyOf(v, v.length - horizon));
            }
            for (int n = 1; n <= Math.min(3, v.length); n++) {
                out.add(Arrays.copyOf(v, n));
            }
        }
        return out;
    }

    private static Map<String, Object> coverage(Intervals intervals, double[][] forecasts, List<Integer> scored,
                                                List<SeriesTable.Entry> table, int horizon) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (int l = 0; l < intervals.levels().length; l++) {
            int inside = 0;
            int total = 0;
            for (int j = 0; j < scored.size(); j++) {
                double[] v = table.get(scored.get(j)).values();
                double[][] b = intervals.bounds(forecasts[j], l);
                for (int h = 0; h < horizon; h++) {
                    double a = v[v.length - horizon + h];
                    inside += a >= b[0][h] && a <= b[1][h] ? 1 : 0;
                    total++;
                }
            }
            out.put(Integer.toString(intervals.levels()[l]), round(100.0 * inside / total));
        }
        return out;
    }

    private static Map<String, String> metadata(Job job, Normaliser norm, int series, Seasons.Period period,
                                                Map<String, Object> testMetrics, Intervals intervals,
                                                GlobalConfig config) throws IOException {
        ObjectMapper json = new ObjectMapper();
        Map<String, String> m = new LinkedHashMap<>();
        // Lookback 0: the graph takes a history of any length and pads or slices it itself.
        m.put(ForecastSpec.KEY_LOOKBACK, "0");
        m.put(ForecastSpec.KEY_HORIZON, Integer.toString(norm.horizon()));
        m.put(ForecastSpec.KEY_FEATURES, json.writeValueAsString(List.of(job.format().target())));
        m.put(ForecastSpec.KEY_TARGET, job.format().target());
        m.put(ForecastSpec.KEY_TRANSFORM, "global");
        if (norm.season() > 1) {
            m.put("season", Integer.toString(norm.season()));
        }
        m.put(ForecastSpec.KEY_TIME_COLUMN, job.format().timeColumn());
        Map<String, Object> global = new LinkedHashMap<>();
        global.put("lookback", norm.lookback());
        global.put("network_steps", norm.steps());
        global.put("season", norm.season());
        global.put("frequency", period.period() > 0 ? period.reason() : "no season (" + period.reason() + ")");
        global.put("scale", norm.scale().label());
        global.put("series", series);
        global.put("members", config.ensemble());
        m.put(GlobalSpec.KEY, json.writeValueAsString(global));
        m.put("test_metrics", json.writeValueAsString(testMetrics));
        if (intervals != null) {
            m.put(Intervals.KEY, intervals.toMetadata());
        }
        m.put("lstmcast_version", Version.get());
        m.put("created", Instant.now().toString());
        m.put("data_source", Path.of(job.data()).getFileName().toString());
        m.put("training_config", json.writeValueAsString(config));
        return m;
    }

    private static String docString(String target, Normaliser norm) {
        return String.format(Locale.ROOT, "A global LSTM forecaster trained by lstmcast %s across many series: the next "
                        + "%d values of any series' %s from its history. Input 'input' [batch, sequence >= 1, 1] float32, raw "
                        + "values, oldest first (the last %d are read, shorter histories are padded); output 'forecast' "
                        + "[batch, %d] in the same units.", Version.get(), norm.horizon(), target, norm.lookback(),
                norm.horizon());
    }

    private static void writeForecasts(Path file, List<SeriesTable.Entry> table, GlobalForecaster model, int horizon)
            throws IOException {
        List<double[]> histories = table.stream().map(SeriesTable.Entry::values).toList();
        double[][] f = model.forecast(histories);
        double[][] theta = model.theta(histories);
        List<List<Object>> rows = new ArrayList<>();
        for (int i = 0; i < table.size(); i++) {
            List<String> times = FutureTimes.after(table.get(i).times(), horizon);
            for (int h = 0; h < horizon; h++) {
                rows.add(List.of(table.get(i).id(), h + 1, times.get(h), f[i][h], theta[i][h]));
            }
        }
        // theta: the model's statistical half alone, for comparison; the model's forecast is the other column.
        writeCsv(file, List.of("id", "step", "time", "forecast", "theta"), rows);
    }

    private static void writeCsv(Path file, List<String> header, List<List<Object>> rows) throws IOException {
        CSVFormat csv = CSVFormat.DEFAULT.builder().setHeader(header.toArray(new String[0])).get();
        try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8); CSVPrinter printer = new CSVPrinter(w, csv)) {
            for (List<Object> r : rows) {
                printer.printRecord(r);
            }
        }
    }

    private static Map<String, Double> rounded(Map<String, Double> in) {
        Map<String, Double> out = new LinkedHashMap<>();
        in.forEach((k, v) -> out.put(k, round(v)));
        return out;
    }

    private static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 10000) / 10000.0 : Double.NaN;
    }

    private static double[] column(double[][] window) {
        double[] out = new double[window.length];
        for (int t = 0; t < window.length; t++) {
            out[t] = window[t][0];
        }
        return out;
    }
}
