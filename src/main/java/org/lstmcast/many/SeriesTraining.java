package org.lstmcast.many;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.List;
import java.util.Map;

import org.apache.commons.codec.digest.DigestUtils;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Series;
import org.lstmcast.export.Export;
import org.lstmcast.metrics.MetricSet;
import org.lstmcast.model.Proof;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;

/**
 * Trains one series of many exactly as {@code train} trains one: split, transform, baselines, run directory, and the
 * export with its proof. Whatever goes wrong becomes the series' result, so the others go on.
 */
public final class SeriesTraining {
    private SeriesTraining() {
    }

    /** The mean over the steps of a level's test coverage; NaN for a level the intervals lack. */
    private static double coverage(Map<String, Object> score, String level) {
        return score.get(level) instanceof Map<?, ?> m ? mean((double[]) m.get("coverage")) : Double.NaN;
    }

    /**
     * @param runDir     the series' run directory
     * @param exportFile where its ONNX model goes ({@code REPO/<name>/<version>/model.onnx}), null for no export
     */
    public static SeriesResult train(LongFormat format, String source, String id, List<LongFormat.Row> rows,
                                     TrainConfig config, Path runDir, Path exportFile) {
        long started = System.nanoTime();
        String model = ModelNames.of(id);
        try {
            Series series = format.series(source, id, rows);
            TrainingRun.Outcome outcome = TrainingRun.run(series, digest(series), format.timeColumn(), config, runDir,
                    TrainingListener.NONE);
            long version = 0;
            double parity = Double.NaN;
            if (exportFile != null) {
                try {
                    parity = Export.export(runDir.resolve("model.zip"), exportFile).maxRelError();
                } catch (Proof.ParityException e) {
                    deleteIfEmpty(exportFile.getParent());
                    return SeriesResult.failed(id, model, rows.size(), seconds(started), "the ONNX export differs from "
                            + "the trained network: " + e.getMessage());
                }
                version = Long.parseLong(exportFile.getParent().getFileName().toString());
            }
            MetricSet lstm = outcome.evaluation().model();
            MetricSet naive = outcome.evaluation().baselines().get("naive");
            MetricSet seasonal = outcome.evaluation().baselines().get("seasonal_naive");
            Map<String, Object> coverage = outcome.intervals().score(outcome.evaluation().forecasts(),
                    outcome.evaluation().actual());
            return new SeriesResult(id, model, version, series.rows(), (String) ((Map<?, ?>) outcome.metrics()
                    .get("transform")).get("used"), outcome.kept(), outcome.networks(), lstm.rmse()[0], mean(lstm.rmse()), naive.rmse()[0],
                    mean(naive.rmse()), seasonal == null ? Double.NaN : seasonal.rmse()[0],
                    seasonal == null ? Double.NaN : mean(seasonal.rmse()), coverage(coverage, "80"),
                    coverage(coverage, "95"), seconds(started), parity, null);
        } catch (DataException | IllegalArgumentException e) {
            return SeriesResult.failed(id, model, rows.size(), seconds(started), e.getMessage());
        } catch (Exception | OutOfMemoryError | StackOverflowError e) {
            return SeriesResult.failed(id, model, rows.size(), seconds(started),
                    e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }

    /** The series' own rows, hashed as the model's provenance: its times and values in time order. */
    static String digest(Series series) {
        MessageDigest sha = DigestUtils.getSha256Digest();
        for (int r = 0; r < series.rows(); r++) {
            StringBuilder line = new StringBuilder(series.times().get(r));
            for (double v : series.values()[r]) {
                line.append(',').append(v);
            }
            sha.update(line.append('\n').toString().getBytes(StandardCharsets.UTF_8));
        }
        return org.apache.commons.codec.binary.Hex.encodeHexString(sha.digest());
    }

    private static double mean(double[] values) {
        double sum = 0;
        for (double v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    private static double seconds(long started) {
        return (System.nanoTime() - started) / 1e9;
    }

    private static void deleteIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // Not empty (another file is there) or not deletable: left as it is.
        }
    }
}
