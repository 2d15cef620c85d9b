package org.lstmcast.metrics;

import java.util.function.IntFunction;

/** One method's accuracy per horizon step (index 0 is one step ahead). */
public record MetricSet(double[] mae, double[] rmse, double[] mape, double[] smape, double[] mase) {

    /**
     * @param actual    the true values compared at each step
     * @param forecasts for each step, the forecasts of the same values
     */
    public static MetricSet of(int steps, IntFunction<double[]> actual, IntFunction<double[]> forecasts, double maseScale) {
        double[] mae = new double[steps];
        double[] rmse = new double[steps];
        double[] mape = new double[steps];
        double[] smape = new double[steps];
        double[] mase = new double[steps];
        for (int h = 0; h < steps; h++) {
            double[] a = actual.apply(h);
            double[] f = forecasts.apply(h);
            mae[h] = Metrics.mae(a, f);
            rmse[h] = Metrics.rmse(a, f);
            mape[h] = Metrics.mape(a, f);
            smape[h] = Metrics.smape(a, f);
            mase[h] = Metrics.mase(a, f, maseScale);
        }
        return new MetricSet(mae, rmse, mape, smape, mase);
    }
}
