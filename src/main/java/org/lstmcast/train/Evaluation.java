package org.lstmcast.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntToDoubleFunction;

import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;
import org.lstmcast.data.Windows;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.metrics.Baselines;
import org.lstmcast.metrics.MetricSet;
import org.lstmcast.metrics.Metrics;

/**
 * Rolling-origin evaluation on the test rows, in original units: every test row is forecast {@code h} steps
 * ahead from the true history that ends {@code h} rows before it, for each step {@code h}, without refitting.
 * The same rows are scored for the model and for each baseline.
 *
 * @param testRows  row indices of the test part
 * @param forecasts {@code forecasts[i][h]}: the model's forecast of test row {@code i} made {@code h + 1} steps earlier
 * @param baselines "naive", and "seasonal_naive" when a season was given
 * @param windows   the windows the network forecast from, one per origin: {@code horizon - 1} more than test rows,
 *                  as the first rows are also forecast from origins before the test part
 */
public record Evaluation(int[] testRows, double[] actual, double[][] forecasts, MetricSet model,
                         Map<String, MetricSet> baselines, double maseScale, int windows) {

    public static Evaluation of(Forecaster forecaster, double[][] values, Split split, int season) {
        int lookback = forecaster.preprocessor().lookback();
        int horizon = forecaster.preprocessor().horizon();
        int firstOrigin = split.valEnd() - horizon;
        int lastOrigin = split.rows() - 2;
        if (firstOrigin - lookback + 1 < 0) {
            throw new IllegalArgumentException("not enough history before the test part");
        }
        double[][] byOrigin = fromOrigins(forecaster, values, firstOrigin, lastOrigin);

        int n = split.testRows();
        int[] rows = new int[n];
        double[] actual = new double[n];
        double[][] forecasts = new double[n][horizon];
        for (int i = 0; i < n; i++) {
            int row = split.valEnd() + i;
            rows[i] = row;
            actual[i] = values[row][0];
            for (int h = 1; h <= horizon; h++) {
                forecasts[i][h - 1] = byOrigin[row - h - firstOrigin][h - 1];
            }
        }

        double[] target = new double[split.rows()];
        for (int r = 0; r < target.length; r++) {
            target[r] = values[r][0];
        }
        double[] training = Arrays.copyOf(target, split.trainEnd());
        double scale = Metrics.maseScale(training, Math.max(1, season));

        MetricSet model = MetricSet.of(horizon, h -> actual, h -> column(forecasts, h), scale);
        Map<String, MetricSet> baselines = new LinkedHashMap<>();
        baselines.put("naive", MetricSet.of(horizon, h -> actual,
                h -> baseline(rows, r -> Baselines.naive(target, r - h - 1, h + 1)), scale));
        if (season > 0) {
            baselines.put("seasonal_naive", MetricSet.of(horizon, h -> actual,
                    h -> baseline(rows, r -> Baselines.seasonalNaive(target, r - h - 1, h + 1, season)), scale));
        }
        return new Evaluation(rows, actual, forecasts, model, baselines, scale, byOrigin.length);
    }

    /**
     * Prediction intervals calibrated on the validation part: every validation row forecast {@code h} steps ahead from
     * the true history before it, for each step, as the test part is scored, so that the test part stays unseen.
     * Relative or absolute as {@link #relativeErrors} decides.
     */
    public static Intervals calibrate(Forecaster forecaster, double[][] values, Split split, List<Integer> levels) {
        double[][][] v = onValidation(forecaster, values, split);
        return Intervals.fit(levels, relativeErrors(forecaster, values, split), v[0], v[1]);
    }

    /** The RMSE on the validation rows, forecast as the test rows are, averaged over the steps: what auto compares. */
    static double validationRmse(Forecaster forecaster, double[][] values, Split split) {
        double[][][] v = onValidation(forecaster, values, split);
        double sum = 0;
        for (int h = 0; h < v[0].length; h++) {
            double sq = 0;
            for (int i = 0; i < v[0][h].length; i++) {
                double e = v[1][h][i] - v[0][h][i];
                sq += e * e;
            }
            sum += Math.sqrt(sq / v[0][h].length);
        }
        return sum / v[0].length;
    }

    /** The forecasts from every origin {@code first..last} (the last row of each window), in original units. */
    private static double[][] fromOrigins(Forecaster forecaster, double[][] values, int first, int last) {
        List<double[][]> windows = new ArrayList<>();
        for (int t = first; t <= last; t++) {
            windows.add(Windows.window(values, t, forecaster.preprocessor().lookback()));
        }
        return forecaster.forecast(windows);
    }

    /** Every validation forecast's squared error, step by step, in one array (the rows of step 1 first). */
    static double[] validationSquaredErrors(Forecaster forecaster, double[][] values, Split split) {
        double[][][] v = onValidation(forecaster, values, split);
        int n = 0;
        for (double[] step : v[0]) {
            n += step.length;
        }
        double[] out = new double[n];
        int k = 0;
        for (int h = 0; h < v[0].length; h++) {
            for (int i = 0; i < v[0][h].length; i++) {
                double e = v[1][h][i] - v[0][h][i];
                out[k++] = e * e;
            }
        }
        return out;
    }

    /** {@code [0][h][i]}: forecasts of the validation rows made {@code h + 1} steps before them; {@code [1][h][i]}: the values. */
    private static double[][][] onValidation(Forecaster forecaster, double[][] values, Split split) {
        int lookback = forecaster.preprocessor().lookback();
        int horizon = forecaster.preprocessor().horizon();
        int firstOrigin = Math.max(lookback - 1, split.trainEnd() - horizon);
        int lastOrigin = split.valEnd() - 2;
        double[][] byOrigin = fromOrigins(forecaster, values, firstOrigin, lastOrigin);
        double[][] forecasts = new double[horizon][];
        double[][] actuals = new double[horizon][];
        for (int h = 1; h <= horizon; h++) {
            int from = Math.max(split.trainEnd(), firstOrigin + h);
            int n = Math.max(0, split.valEnd() - from);
            forecasts[h - 1] = new double[n];
            actuals[h - 1] = new double[n];
            for (int i = 0; i < n; i++) {
                int row = from + i;
                forecasts[h - 1][i] = byOrigin[row - h - firstOrigin][h - 1];
                actuals[h - 1][i] = values[row][0];
            }
        }
        return new double[][][] {forecasts, actuals};
    }

    /**
     * Whether errors are measured relative to the forecast: with the relative transform, and for a target that stayed
     * above zero up to the test part, where errors usually grow with the level (prices, demand, counts). Measured
     * with default options: on the DAX, whose test part (1997-98) is higher and more volatile than its validation
     * part, 80% intervals covered 36% of the test rows with absolute errors and 51% with relative ones; on co2 both
     * covered 80% on average.
     */
    private static boolean relativeErrors(Forecaster forecaster, double[][] values, Split split) {
        if (forecaster.preprocessor().transform() == Transform.RELATIVE) {
            return true;
        }
        for (int r = 0; r < split.valEnd(); r++) {
            if (!(values[r][0] > 0)) {
                return false;
            }
        }
        return true;
    }

    private static double[] column(double[][] m, int c) {
        double[] out = new double[m.length];
        for (int i = 0; i < m.length; i++) {
            out[i] = m[i][c];
        }
        return out;
    }

    private static double[] baseline(int[] rows, IntToDoubleFunction f) {
        double[] out = new double[rows.length];
        for (int i = 0; i < rows.length; i++) {
            out[i] = f.applyAsDouble(rows[i]);
        }
        return out;
    }
}
