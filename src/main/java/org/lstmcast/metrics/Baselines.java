package org.lstmcast.metrics;

/** The forecasts every model has to beat, made from the true history up to {@code origin}. */
public final class Baselines {
    private Baselines() {
    }

    /** Naive: the last observed value, for every step ahead. */
    public static double naive(double[] y, int origin, int step) {
        return y[origin];
    }

    /** Seasonal naive: the value one season before the target, from the last observed season. */
    public static double seasonalNaive(double[] y, int origin, int step, int season) {
        int back = season * ((step + season - 1) / season);
        return y[origin + step - back];
    }
}
