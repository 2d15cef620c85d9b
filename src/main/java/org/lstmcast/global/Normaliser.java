package org.lstmcast.global;

import java.util.Locale;

/**
 * How a global model sees one window of any series, whatever its scale and length, and how it turns the network's
 * outputs back into that series' units. The exported graph computes exactly this ({@link GlobalExporter}); this class
 * is the reference the export is proven against, and the one training uses.
 *
 * <p>A window is the last {@code lookback} values of a series, left-padded when the series is shorter; a third input
 * feature says which steps are real. In {@link Scale#LOG} the values are logged (ES-RNN, N-BEATS' M4 entries); in
 * {@link Scale#MEAN} they are divided by the window's mean absolute value (DeepAR). Then:
 *
 * <ol>
 *   <li><b>a seasonal profile</b> from the window's whole seasons (blocks of {@code season} steps aligned to its end):
 *       each block minus its own mean, averaged over blocks, then shrunk towards zero by the positive-part
 *       James-Stein factor {@code max(0, 1 - (sigma^2 / c) / mean(profile^2))}, where {@code c} is the number of whole
 *       blocks and {@code sigma^2} the blocks' spread around the profile. A series without a season keeps almost none
 *       of a profile that is noise, a strongly seasonal one keeps almost all of it; with fewer than two whole blocks
 *       there is no spread to judge by and no profile. This replaces Theta's seasonality test by a rule with no
 *       threshold, computable inside the graph.</li>
 *   <li><b>a level</b>: the mean of the last season's real values (the last value without a season).</li>
 *   <li>the network reads, per step, {@code [value - profile - level, profile, real]} (padding reads zeros) and
 *       outputs each step's departure from {@code level + profile}; so a network that has learnt nothing forecasts
 *       the seasonally adjusted last level, M3's NAIVE2.</li>
 * </ol>
 *
 * @param lookback steps read, a multiple of {@code season}
 * @param season   seasonal period, 1 for none
 * @param horizon  steps forecast
 * @param scale    how a window's scale is removed
 */
public record Normaliser(int lookback, int season, int horizon, Scale scale) {
    /** Input features per step: the adjusted value, the profile, and whether the step is real. */
    public static final int FEATURES = 3;
    /** Values below this are taken as it before the log, so that a stray zero cannot make the graph answer NaN. */
    public static final double LOG_FLOOR = 1e-20;

    /** How a window's scale is removed before the network sees it. */
    public enum Scale {
        /** log of the values: needs positive data; errors become relative errors, which sMAPE and MASE reward. */
        LOG,
        /** divided by the window's mean absolute value: takes zeros and negative values. */
        MEAN;

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Scale parse(String s) {
            return valueOf(s.trim().toUpperCase(Locale.ROOT));
        }
    }

    public Normaliser {
        if (season < 1 || lookback < season || lookback % season != 0) {
            throw new IllegalArgumentException("the lookback (" + lookback + ") must be a whole number of seasons ("
                    + season + ")");
        }
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be at least 1, got " + horizon);
        }
    }

    /**
     * The default lookback for a season and horizon: two horizons or four seasons, whichever is longer, rounded up to
     * whole seasons. Two horizons is the shortest history N-BEATS looked back over; four seasons let the profile's
     * shrinkage judge a season from three spreads at least.
     */
    public static int defaultLookback(int season, int horizon) {
        int m = Math.max(1, season);
        int want = Math.max(2 * horizon, 4 * m);
        return (want + m - 1) / m * m;
    }

    /**
     * One window, normalised.
     *
     * @param input   {@code [FEATURES][lookback]}, the network's input in DL4J's NCW order
     * @param level   the level, in the scaled space
     * @param profile {@code [season]}, the shrunk profile by position within the season (the window's last step is
     *                position {@code season - 1})
     * @param divisor the {@link Scale#MEAN} divisor, 1 for {@link Scale#LOG}
     * @param real    the window's real (unpadded) values
     */
    public record Window(float[][] input, double level, double[] profile, double divisor, int real) {
    }

    /** Normalises the last {@code lookback} values of {@code history} (all of them when there are fewer). */
    public Window window(double[] history) {
        int n = Math.min(history.length, lookback);
        if (n < 1) {
            throw new IllegalArgumentException("a window needs at least one value");
        }
        int pad = lookback - n;
        double[] y = new double[lookback];
        double divisor = 1;
        if (scale == Scale.MEAN) {
            double sum = 0;
            for (int i = 0; i < n; i++) {
                sum += Math.abs(history[history.length - n + i]);
            }
            divisor = Math.max(sum / n, LOG_FLOOR);
        }
        for (int t = pad; t < lookback; t++) {
            double x = history[history.length - lookback + t];
            y[t] = scale == Scale.LOG ? Math.log(Math.max(x, LOG_FLOOR)) : x / divisor;
        }
        double[] profile = profile(y, pad);
        int m = season;
        double levelSum = 0;
        int levelCount = 0;
        for (int t = Math.max(pad, lookback - m); t < lookback; t++) {
            levelSum += y[t];
            levelCount++;
        }
        double level = levelSum / levelCount;
        float[][] input = new float[FEATURES][lookback];
        for (int t = pad; t < lookback; t++) {
            double s = profile[t % m];
            input[0][t] = (float) (y[t] - s - level);
            input[1][t] = (float) s;
            input[2][t] = 1f;
        }
        return new Window(input, level, profile, divisor, n);
    }

    /** The shrunk seasonal profile of {@code y} (real from position {@code pad} on), {@code [season]}. */
    private double[] profile(double[] y, int pad) {
        int m = season;
        double[] mean = new double[m];
        if (m == 1) {
            return mean;
        }
        int blocks = lookback / m;
        int first = (pad + m - 1) / m;
        int c = blocks - first;
        if (c < 2) {
            return mean;
        }
        double[][] d = new double[c][m];
        for (int k = 0; k < c; k++) {
            int start = (first + k) * m;
            double mu = 0;
            for (int p = 0; p < m; p++) {
                mu += y[start + p];
            }
            mu /= m;
            for (int p = 0; p < m; p++) {
                d[k][p] = y[start + p] - mu;
                mean[p] += d[k][p] / c;
            }
        }
        double rss = 0;
        double power = 0;
        for (int p = 0; p < m; p++) {
            for (int k = 0; k < c; k++) {
                rss += (d[k][p] - mean[p]) * (d[k][p] - mean[p]);
            }
            power += mean[p] * mean[p];
        }
        power /= m;
        double noise = rss / ((c - 1.0) * m) / c;
        double keep = Math.max(0, 1 - noise / (power + TINY));
        for (int p = 0; p < m; p++) {
            mean[p] *= keep;
        }
        return mean;
    }

    /** Guards the shrinkage's division where a window is flat. */
    static final double TINY = 1e-12;

    /** The profile's value at forecast step {@code h} (1-based). */
    public double profileAt(Window w, int h) {
        return w.profile()[(h - 1) % season];
    }

    /** Network outputs → forecasts in the series' units. */
    public double[] forecast(Window w, float[] output) {
        double[] out = new double[horizon];
        for (int h = 1; h <= horizon; h++) {
            double y = w.level() + profileAt(w, h) + output[h - 1];
            out[h - 1] = scale == Scale.LOG ? Math.exp(y) : y * w.divisor();
        }
        return out;
    }

    /** What the network should output for {@code future} (at most {@code horizon} values) after the window. */
    public float[] target(Window w, double[] future) {
        float[] out = new float[future.length];
        for (int h = 1; h <= future.length; h++) {
            double y = scale == Scale.LOG ? Math.log(Math.max(future[h - 1], LOG_FLOOR)) : future[h - 1] / w.divisor();
            out[h - 1] = (float) (y - w.level() - profileAt(w, h));
        }
        return out;
    }
}
