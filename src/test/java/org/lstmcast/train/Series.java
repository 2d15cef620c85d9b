package org.lstmcast.train;

import java.util.Locale;
import java.util.Random;

/** Generated series for tests: known structure, so a working model must find it. */
final class Series {
    private Series() {
    }

    /** Trend plus a 12-step season plus Gaussian noise: {@code values[row][0]}. */
    static double[][] seasonal(int rows, long seed) {
        Random random = new Random(seed);
        double[][] v = new double[rows][1];
        for (int t = 0; t < rows; t++) {
            v[t][0] = 50 + 0.05 * t + 4 * Math.sin(2 * Math.PI * t / 12) + 0.3 * random.nextGaussian();
        }
        return v;
    }

    /** As {@link #seasonal}, plus a deviation that fades (each row keeps 0.8 of it): the level drifts off the season. */
    static double[][] drifting(int rows, long seed) {
        Random random = new Random(seed);
        double[][] v = seasonal(rows, seed);
        double deviation = 0;
        for (int t = 0; t < rows; t++) {
            deviation = 0.8 * deviation + random.nextGaussian();
            v[t][0] += deviation;
        }
        return v;
    }

    static String csv(double[][] values) {
        StringBuilder sb = new StringBuilder("month,value\n");
        for (int t = 0; t < values.length; t++) {
            sb.append(String.format(Locale.ROOT, "%d-%02d,%.6f%n", 2000 + t / 12, t % 12 + 1, values[t][0]));
        }
        return sb.toString();
    }
}
