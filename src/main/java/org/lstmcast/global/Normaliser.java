package org.lstmcast.global;

import java.util.Locale;

/**
 * How a global model sees one window of any series, whatever its scale and length, and how it turns the network's
 * outputs back into that series' units. The exported graph computes exactly this ({@link GlobalExporter}); this class
 * is the reference the export is proven against, and the one training uses.
 *
 * <p>A window is the last {@code lookback} values of a series, left-padded when the series is shorter. In
 * {@link Scale#LOG} the values are logged (ES-RNN, N-BEATS' M4 entries); in {@link Scale#MEAN} they are divided by the
 * window's mean absolute value (DeepAR). Then, all from the window alone:
 *
 * <ol>
 *   <li><b>A seasonal profile</b> from the window's whole seasons (blocks of {@code season} steps aligned to its end):
 *       each block minus its own mean and minus the window's trend within the block (the mean change from the first
 *       whole block to the last; without it a trending series reads its trend as a saw-tooth season), averaged over
 *       blocks, then shrunk towards zero by the positive-part James-Stein factor
 *       {@code max(0, 1 - (sigma^2 / c) / mean(profile^2))}, with {@code c} whole blocks and {@code sigma^2} their
 *       spread around the profile. A series without a season keeps almost none of a profile that is noise, a strongly
 *       seasonal one almost all of it; under two whole blocks there is no spread to judge by and no profile. This
 *       stands in for Theta's seasonality test with a rule that has no threshold and fits in a graph.</li>
 *   <li><b>A Theta forecast</b> of the seasonally adjusted values (the M3 winner's: simple exponential smoothing plus
 *       half the least-squares trend), with the smoothing weight chosen among {@link #ALPHAS} by a soft minimum of the
 *       one-step squared errors. Soft, so that float32 and float64 cannot pick different weights on a near tie: the
 *       weights are {@code exp(-(sse / min sse - 1) / TEMPERATURE)}, normalised.</li>
 *   <li><b>A level</b>: the mean of the last season's real values (the last value without a season).</li>
 *   <li>The network reads the last {@code steps} steps of {@code [value - profile - level, profile, real]} (padding
 *       reads zeros) and forecasts each step's departure from {@code level + profile}, learnt across series. The
 *       model's forecast is the mean of the network's and Theta's (both with the profile put back), in the scaled
 *       space: the combination that won M3 and M4's benchmarks, with an LSTM as one of its two members.</li>
 * </ol>
 *
 * @param lookback values read for the profile and Theta, a multiple of {@code season}
 * @param steps    the last steps the network reads, at most {@code lookback}
 * @param season   seasonal period, 1 for none
 * @param horizon  steps forecast
 * @param scale    how a window's scale is removed
 */
public record Normaliser(int lookback, int steps, int season, int horizon, Scale scale) {
    /** Input features per step: the adjusted value, the profile, and whether the step is real. */
    public static final int FEATURES = 3;
    /** Values below this are taken as it before the log, so that a stray zero cannot make the graph answer NaN. */
    public static final double LOG_FLOOR = 1e-20;
    /** The smoothing weights Theta's soft choice runs over. */
    static final double[] ALPHAS = alphas();
    /** How soft the choice of smoothing weight is, in relative squared error. */
    static final double TEMPERATURE = 0.05;
    /**
     * The network's share of the forecast, Theta's the rest. The two err differently: on M3's quarterly series a
     * network alone scored 9.50 sMAPE, Theta over the same window 9.04, their mean 8.90 (docs/BENCHMARKS.md).
     */
    static final double NETWORK_SHARE = 0.5;
    /** Guards divisions where a window is flat. */
    static final double TINY = 1e-12;

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
        if (season < 1 || lookback < Math.max(2, season) || lookback % season != 0) {
            throw new IllegalArgumentException("the lookback (" + lookback + ") must be a whole number of seasons ("
                    + season + ")");
        }
        if (steps < 1 || steps > lookback) {
            throw new IllegalArgumentException("the network's steps (" + steps + ") must be between 1 and the lookback ("
                    + lookback + ")");
        }
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be at least 1, got " + horizon);
        }
    }

    private static double[] alphas() {
        double[] a = new double[19];
        for (int i = 0; i < a.length; i++) {
            a[i] = 0.05 * (i + 1);
        }
        return a;
    }

    /**
     * The default window for the profile and Theta: six horizons or four seasons, whichever is longer, in whole
     * seasons. Theta's trend and the profile both gain from history: on M3's quarterly series Theta over 16 values
     * scored 9.68 sMAPE, over 48 values 9.08 (docs/BENCHMARKS.md, "One model across series").
     */
    public static int defaultLookback(int season, int horizon) {
        int m = Math.max(1, season);
        int want = Math.max(6 * horizon, 4 * m);
        return (want + m - 1) / m * m;
    }

    /**
     * The default steps the network reads: two horizons or four seasons, whichever is longer (the shortest history
     * N-BEATS looked back over); the network's cost grows with them, the statistics' hardly.
     */
    public static int defaultSteps(int season, int horizon, int lookback) {
        return Math.min(lookback, Math.max(2 * horizon, 4 * Math.max(1, season)));
    }

    /**
     * One window, normalised.
     *
     * @param input   {@code [FEATURES][steps]}, the network's input in DL4J's NCW order
     * @param level   the level, in the scaled space
     * @param profile {@code [season]}, the shrunk profile by position within the season (the window's last step is
     *                position {@code season - 1})
     * @param theta   {@code [horizon]}, Theta's forecast of the adjusted values, in the scaled space
     * @param divisor the {@link Scale#MEAN} divisor, 1 for {@link Scale#LOG}
     * @param real    the window's real (unpadded) values
     */
    public record Window(float[][] input, double level, double[] profile, double[] theta, double divisor, int real) {
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
        int m = season;
        double[] profile = profile(y, pad);
        double[] adjusted = new double[lookback];
        for (int t = pad; t < lookback; t++) {
            adjusted[t] = y[t] - profile[t % m];
        }
        double levelSum = 0;
        int levelCount = 0;
        for (int t = Math.max(pad, lookback - m); t < lookback; t++) {
            levelSum += y[t];
            levelCount++;
        }
        double level = levelSum / levelCount;
        float[][] input = new float[FEATURES][steps];
        for (int i = 0; i < steps; i++) {
            int t = lookback - steps + i;
            if (t >= pad) {
                double s = profile[t % m];
                input[0][i] = (float) (y[t] - s - level);
                input[1][i] = (float) s;
                input[2][i] = 1f;
            }
        }
        return new Window(input, level, profile, theta(adjusted, pad), divisor, n);
    }

    /** The shrunk, trend-corrected seasonal profile of {@code y} (real from position {@code pad} on), {@code [season]}. */
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
        double[] mu = new double[c];
        for (int k = 0; k < c; k++) {
            for (int p = 0; p < m; p++) {
                mu[k] += y[(first + k) * m + p];
            }
            mu[k] /= m;
        }
        double slope = (mu[c - 1] - mu[0]) / ((c - 1.0) * m);
        double[][] d = new double[c][m];
        for (int k = 0; k < c; k++) {
            for (int p = 0; p < m; p++) {
                d[k][p] = y[(first + k) * m + p] - mu[k] - slope * (p - (m - 1) / 2.0);
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

    /** Theta's forecast of the adjusted values (real from {@code pad} on), {@code [horizon]}. */
    private double[] theta(double[] adjusted, int pad) {
        int n = lookback - pad;
        // Least-squares slope over the real steps.
        double tMean = 0;
        double yMean = 0;
        for (int t = pad; t < lookback; t++) {
            tMean += t;
            yMean += adjusted[t];
        }
        tMean /= n;
        yMean /= n;
        double sxy = 0;
        double sxx = 0;
        for (int t = pad; t < lookback; t++) {
            sxy += (t - tMean) * (adjusted[t] - yMean);
            sxx += (t - tMean) * (t - tMean);
        }
        double slope = sxy / Math.max(sxx, TINY);
        double[] sse = new double[ALPHAS.length];
        double[] level = new double[ALPHAS.length];
        double least = Double.POSITIVE_INFINITY;
        for (int g = 0; g < ALPHAS.length; g++) {
            double a = ALPHAS[g];
            double l = adjusted[pad];
            for (int t = pad + 1; t < lookback; t++) {
                double e = adjusted[t] - l;
                sse[g] += e * e;
                l = a * adjusted[t] + (1 - a) * l;
            }
            level[g] = l;
            least = Math.min(least, sse[g]);
        }
        double[] weight = new double[ALPHAS.length];
        double total = 0;
        for (int g = 0; g < ALPHAS.length; g++) {
            weight[g] = Math.exp(-(sse[g] / (least + TINY) - 1) / TEMPERATURE);
            total += weight[g];
        }
        double[] out = new double[horizon];
        for (int g = 0; g < ALPHAS.length; g++) {
            double a = ALPHAS[g];
            double w = weight[g] / total;
            double tail = Math.pow(1 - a, n) / a;
            for (int h = 1; h <= horizon; h++) {
                out[h - 1] += w * (level[g] + 0.5 * slope * (h - 1 + 1 / a - tail));
            }
        }
        return out;
    }

    /** The profile's value at forecast step {@code h} (1-based). */
    public double profileAt(Window w, int h) {
        return w.profile()[(h - 1) % season];
    }

    /**
     * Network outputs → forecasts in the series' units: the mean of the network's forecast and Theta's, with the
     * profile put back. {@code output} null gives Theta's alone.
     */
    public double[] forecast(Window w, float[] output) {
        double[] out = new double[horizon];
        for (int h = 1; h <= horizon; h++) {
            double adjusted = output == null ? w.theta()[h - 1]
                    : NETWORK_SHARE * (w.level() + output[h - 1]) + (1 - NETWORK_SHARE) * w.theta()[h - 1];
            double y = adjusted + profileAt(w, h);
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
