package org.lstmcast.global;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lstmcast.data.DataException;
import org.lstmcast.data.FutureTimes;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.many.ForecastTable;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.SeriesForecast;
import org.lstmcast.repository.ModelRepository;

/**
 * {@code predict-many --model}: every series of a long table forecast by one model, in batches of equal-length
 * windows (many windows per ONNX Runtime run). A global model reads any length, so each series sends its last
 * {@code lookback} values, or all of them when it has fewer; the graph would read no more of a longer history, so the
 * forecasts equal those of the whole history sent alone, as a server answers.
 */
public final class GlobalPredict {
    private static final int BATCH = 512;

    /**
     * @param model   a model folder {@code REPO/NAME} (its newest version) or an {@code .onnx} file
     * @param horizon steps to forecast, 0 for the model's own horizon
     */
    public record Job(String data, LongFormat format, Path model, int horizon, Path out, String master) {
    }

    public record Summary(List<SeriesForecast> forecasts, String model, long version, int runs, double seconds) {
    }

    private GlobalPredict() {
    }

    public static Summary run(Job job) throws Exception {
        long started = System.nanoTime();
        Path file;
        long version;
        String name;
        if (Files.isRegularFile(job.model())) {
            file = job.model();
            version = 0;
            name = file.getFileName().toString().replaceAll("\\.onnx$", "");
        } else {
            version = ModelRepository.highestVersion(job.model());
            if (version == 0) {
                throw new DataException(job.model() + ": no model file and no numbered version folder in it");
            }
            file = job.model().resolve(Long.toString(version)).resolve(ModelRepository.MODEL_FILE);
            name = job.model().getFileName().toString();
            if (!Files.isRegularFile(file)) {
                throw new DataException(file + ": no such file (convert the model's source first)");
            }
        }
        List<SeriesTable.Entry> table = SeriesTable.read(job.data(), job.format(), job.master());
        List<SeriesForecast> out = new ArrayList<>();
        int runs = 0;
        try (OnnxForecaster forecaster = OnnxForecaster.open(file)) {
            ForecastSpec spec = forecaster.spec();
            if (!spec.univariate()) {
                throw new DataException(name + " reads " + spec.features() + "; predict-many --model forecasts one "
                        + "column from its own history");
            }
            GlobalSpec global = GlobalSpec.fromMetadata(forecaster.metadata());
            int read = global != null ? global.lookback() : spec.lookback();
            int steps = job.horizon() > 0 ? job.horizon() : spec.horizon();
            Intervals intervals = SeriesForecast.intervals(forecaster.metadata(), spec);
            Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
            SeriesForecast[] results = new SeriesForecast[table.size()];
            for (int i = 0; i < table.size(); i++) {
                int n = table.get(i).values().length;
                if (n < Math.max(1, spec.lookback())) {
                    results[i] = new SeriesForecast(table.get(i).id(), name, version, List.of(), new double[0],
                            String.format(Locale.ROOT, "%d values; %s reads the last %d", n, name,
                                    spec.lookback()));
                    continue;
                }
                byLength.computeIfAbsent(read > 0 ? Math.min(n, read) : n, k -> new ArrayList<>()).add(i);
            }
            for (Map.Entry<Integer, List<Integer>> group : byLength.entrySet()) {
                List<Integer> idx = group.getValue();
                int length = group.getKey();
                for (int from = 0; from < idx.size(); from += BATCH) {
                    List<Integer> part = idx.subList(from, Math.min(idx.size(), from + BATCH));
                    List<double[][]> windows = new ArrayList<>(part.size());
                    for (int i : part) {
                        double[] v = table.get(i).values();
                        double[][] w = new double[length][1];
                        for (int t = 0; t < length; t++) {
                            w[t][0] = v[v.length - length + t];
                        }
                        windows.add(w);
                    }
                    double[][] f = forecaster.forecast(windows, steps);
                    runs++;
                    for (int j = 0; j < part.size(); j++) {
                        SeriesTable.Entry e = table.get(part.get(j));
                        results[part.get(j)] = new SeriesForecast(e.id(), name, version,
                                FutureTimes.after(e.times(), steps), f[j], null,
                                intervals == null ? null : SeriesForecast.Bands.of(intervals, f[j]));
                    }
                }
            }
            out.addAll(List.of(results));
        }
        ForecastTable.write(job.out(), out);
        return new Summary(out, name, version, runs, (System.nanoTime() - started) / 1e9);
    }
}
