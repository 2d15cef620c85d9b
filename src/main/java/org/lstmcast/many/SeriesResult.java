package org.lstmcast.many;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * What training one series of many came to: a row of {@code metrics.csv}. RMSEs are on the series' test part in its
 * own units, at step 1 and averaged over every step; NaN where there is no such figure (a failed series, or no season
 * for the seasonal-naive baseline).
 *
 * @param version  the exported model's version, 0 when nothing was exported
 * @param kept     what auto kept, in words ("5 LSTM networks on diff", "naive: the last value (no network)")
 * @param networks the LSTM networks in the model, 0 where an anchor alone was kept
 * @param error   why the series failed, null when it did not
 */
public record SeriesResult(String id, String model, long version, int rows, String transform, String kept,
                           int networks, double modelRmse1, double modelRmseMean, double naiveRmse1, double naiveRmseMean, double seasonalNaiveRmse1,
                           double seasonalNaiveRmseMean, double coverage80, double coverage95, double trainSeconds,
                           double parityMaxRelError, String error)
        implements Serializable {

    /** {@code coverage_80} and {@code coverage_95}: the test part's share inside the intervals, mean over the steps. */
    public static final List<String> HEADER = List.of("id", "model", "version", "status", "rows", "transform",
            "kept", "networks", "model_rmse_1", "model_rmse_mean", "naive_rmse_1", "naive_rmse_mean", "seasonal_naive_rmse_1",
            "seasonal_naive_rmse_mean", "coverage_80", "coverage_95", "train_seconds", "parity_max_rel_error", "error");

    public static SeriesResult failed(String id, String model, int rows, double seconds, String error) {
        return new SeriesResult(id, model, 0, rows, null, null, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN,
                Double.NaN, Double.NaN, Double.NaN, seconds, Double.NaN, error);
    }

    public boolean ok() {
        return error == null;
    }

    public String status() {
        return ok() ? "ok" : "failed";
    }

    /** The row in {@link #HEADER}'s order; undefined figures as null, which CSV writes as an empty cell. */
    public List<Object> values() {
        return Arrays.asList(id, model, version == 0 ? null : version, status(), rows, transform, kept,
                ok() ? networks : null, n(modelRmse1), n(modelRmseMean), n(naiveRmse1), n(naiveRmseMean), n(seasonalNaiveRmse1), n(seasonalNaiveRmseMean),
                n(coverage80), n(coverage95), Math.round(trainSeconds * 1000) / 1000.0, n(parityMaxRelError), error);
    }

    private static Double n(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
