package org.lstmcast.metrics;

/**
 * Point-forecast accuracy measures, in the definitions Hyndman and Athanasopoulos (FPP3) and Darts use.
 *
 * <p>Written here rather than taken from a library: each is one line of arithmetic, and no maintained
 * Java library offers MASE and sMAPE with these definitions.
 */
public final class Metrics {
    private Metrics() {
    }

    public static double mae(double[] actual, double[] forecast) {
        check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.length; i++) {
            s += Math.abs(actual[i] - forecast[i]);
        }
        return s / actual.length;
    }

    public static double rmse(double[] actual, double[] forecast) {
        check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.length; i++) {
            double e = actual[i] - forecast[i];
            s += e * e;
        }
        return Math.sqrt(s / actual.length);
    }

    /** Mean absolute percentage error, in percent; NaN when an actual value is zero (it is undefined there). */
    public static double mape(double[] actual, double[] forecast) {
        check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] == 0) {
                return Double.NaN;
            }
            s += Math.abs((actual[i] - forecast[i]) / actual[i]);
        }
        return 100 * s / actual.length;
    }

    /** Symmetric MAPE, {@code 200 |a - f| / (|a| + |f|)}, in percent (0..200); a pair of zeros counts as 0. */
    public static double smape(double[] actual, double[] forecast) {
        check(actual, forecast);
        double s = 0;
        for (int i = 0; i < actual.length; i++) {
            double denominator = Math.abs(actual[i]) + Math.abs(forecast[i]);
            if (denominator > 0) {
                s += 2 * Math.abs(actual[i] - forecast[i]) / denominator;
            }
        }
        return 100 * s / actual.length;
    }

    /** Mean absolute scaled error: MAE divided by {@link #maseScale}. */
    public static double mase(double[] actual, double[] forecast, double scale) {
        return mae(actual, forecast) / scale;
    }

    /**
     * The in-sample MAE of the (seasonal) naive forecast on the training values, {@code mean |y[t] - y[t - m]|}:
     * the denominator of MASE. A MASE below 1 beats that naive method on average.
     */
    public static double maseScale(double[] training, int m) {
        if (m < 1 || training.length <= m) {
            throw new IllegalArgumentException("MASE needs more than " + m + " training values");
        }
        double s = 0;
        for (int t = m; t < training.length; t++) {
            s += Math.abs(training[t] - training[t - m]);
        }
        return s / (training.length - m);
    }

    private static void check(double[] actual, double[] forecast) {
        if (actual.length != forecast.length || actual.length == 0) {
            throw new IllegalArgumentException("need equal, non-empty arrays, got " + actual.length + " and " + forecast.length);
        }
    }
}
