package org.lstmcast.data;

import java.util.Arrays;

/**
 * The exact mapping between raw windows and the network: transform, then an affine scaling fitted on
 * the training rows only, and back again for forecasts.
 *
 * <p>A window is {@code lookback} raw rows of every input feature ({@code window[step][feature]}); the
 * target is feature {@code targetIndex}. Network inputs are {@code (transformed - inShift) / inScale}
 * per feature, network outputs are {@code (transformedTarget - outShift) / outScale} per horizon step.
 *
 * <p>The anchored transforms ({@link Transform#anchorSeasons()}) forecast step {@code h} as its seasonal anchor, plus
 * {@code anchorCarry[h]} times the anchor's error at the window's last row, plus the network's correction. The carry
 * is a least-squares slope fitted on the training origins, as an AR(1) term on the seasonal errors: a level that has
 * drifted off last year's pattern tends to stay off it for a while, which a network trained on a hundred rows of
 * first differences learns poorly. Each step's carry is held between 0 and the step before's. It is 0 for the other
 * transforms.
 *
 * <p>With {@code windowDrift}, each step's anchor also grows by the window's own mean seasonal change (the mean of
 * {@code x[j] - x[j - season]} over the window) times the seasons between the values it repeats and the step: a
 * trend that follows the series' recent growth, where the training rows' mean change ({@code outShift}) lags behind a
 * series that grows faster each year. The anchor's error at the last row is then measured against the same trend.
 */
public record Preprocessor(Transform transform, int lookback, int horizon, int targetIndex,
                           double[] inShift, double[] inScale, double[] outShift, double[] outScale, int season,
                           double[] anchorCarry, boolean windowDrift) {

    private static void requireSeason(Transform transform, int lookback, int season) {
        int seasons = transform.anchorSeasons();
        if (seasons > 0 && (season < 2 || lookback < seasons * season)) {
            throw new IllegalArgumentException("the " + transform.id() + " transform needs a season of at least 2 and a "
                    + "lookback of at least " + (seasons == 1 ? "one season" : seasons + " seasons") + "; got season "
                    + season + " and lookback " + lookback);
        }
    }

    /** Whether a window can take its anchors' trend from itself: a seasonal anchor, and more than one season of rows. */
    public static boolean allowsWindowDrift(Transform transform, int lookback, int season) {
        return transform.anchorSeasons() > 0 && lookback > season;
    }

    private static void requireWindowDrift(Transform transform, int lookback, int season, boolean windowDrift) {
        if (windowDrift && !allowsWindowDrift(transform, lookback, season)) {
            throw new IllegalArgumentException("a drift from the window needs a seasonal transform and a lookback longer "
                    + "than one season; got " + transform.id() + " with lookback " + lookback + " and season " + season);
        }
    }

    /** A preprocessor for a transform that needs no season. */
    public Preprocessor(Transform transform, int lookback, int horizon, int targetIndex,
                        double[] inShift, double[] inScale, double[] outShift, double[] outScale) {
        this(transform, lookback, horizon, targetIndex, inShift, inScale, outShift, outScale, 0, null);
    }

    /** A preprocessor that carries none of the anchor's last error forward (a model saved before it could). */
    public Preprocessor(Transform transform, int lookback, int horizon, int targetIndex,
                        double[] inShift, double[] inScale, double[] outShift, double[] outScale, int season) {
        this(transform, lookback, horizon, targetIndex, inShift, inScale, outShift, outScale, season, null);
    }

    /** A preprocessor whose anchors take no trend from the window (a model saved before they could). */
    public Preprocessor(Transform transform, int lookback, int horizon, int targetIndex,
                        double[] inShift, double[] inScale, double[] outShift, double[] outScale, int season,
                        double[] anchorCarry) {
        this(transform, lookback, horizon, targetIndex, inShift, inScale, outShift, outScale, season, anchorCarry, false);
    }

    private static final String AUTO_MESSAGE = "transform auto is resolved to a transform before training";

    public Preprocessor {
        if (transform == Transform.AUTO) {
            throw new IllegalArgumentException(AUTO_MESSAGE);
        }
        requireSeason(transform, lookback, season);
        requireWindowDrift(transform, lookback, season, windowDrift);
        if (lookback < 2) {
            throw new IllegalArgumentException("lookback must be at least 2");
        }
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be at least 1");
        }
        if (inShift.length != inScale.length || outShift.length != horizon || outScale.length != horizon) {
            throw new IllegalArgumentException("scaler sizes do not match the features and horizon");
        }
        if (anchorCarry == null) {
            anchorCarry = new double[horizon];
        }
        if (anchorCarry.length != horizon) {
            throw new IllegalArgumentException("anchor carry has " + anchorCarry.length + " steps, the horizon is " + horizon);
        }
        if (!carries(transform, lookback, season) && Arrays.stream(anchorCarry).anyMatch(c -> c != 0)) {
            throw new IllegalArgumentException("the " + transform.id() + " transform with lookback " + lookback
                    + " and season " + season + " has no anchor error to carry");
        }
    }

    /**
     * Whether a window holds the anchor's error at its own last row: the anchored transforms, with a lookback that
     * reaches the anchor of the last row too (one row more than the anchors of the forecasts need).
     */
    private static boolean carries(Transform transform, int lookback, int season) {
        int seasons = transform.anchorSeasons();
        return seasons > 0 && lookback >= seasons * season + 1;
    }

    /** Whether forecasts carry part of the anchor's error at the window's last row ({@link #anchorCarry}). */
    public boolean carriesAnchorError() {
        return carries(transform, lookback, season);
    }

    /**
     * The anchor's error at a window's last row: its value minus the anchor a forecast one step ahead from the row
     * before would have used. For an anchored transform with {@link #carriesAnchorError()}.
     */
    public double anchorError(double[][] window) {
        int last = window.length - 1;
        return window[last][targetIndex] - anchor(transform, window, last - 1, 1, season, targetIndex)
                - trend(window, last, 1);
    }

    /**
     * The weights of the window's mean seasonal change over its {@code lookback} rows, oldest first: the mean of
     * {@code x[j] - x[j - season]} telescopes to the sum of the last season minus the sum of the first, over
     * {@code lookback - season}. The export multiplies the window by the same weights.
     */
    public static double[] seasonalChangeWeights(int lookback, int season) {
        double[] w = new double[lookback];
        for (int k = 0; k < season; k++) {
            w[lookback - 1 - k] += 1.0 / (lookback - season);
            w[k] -= 1.0 / (lookback - season);
        }
        return w;
    }

    /** The window's mean seasonal change ({@link #seasonalChangeWeights}) over the rows ending at row {@code last}. */
    static double seasonalChange(double[][] values, int last, int lookback, int season, int target) {
        double[] w = seasonalChangeWeights(lookback, season);
        int first = last - lookback + 1;
        double sum = 0;
        for (int j = 0; j < lookback; j++) {
            sum += w[j] * values[first + j][target];
        }
        return sum;
    }

    /**
     * Seasons between step {@code h} (1-based) and the values its anchor averages, on the mean: how many times the
     * window's seasonal change the anchor grows by ({@code ceil(h / season)} for the seasonal anchor, half a season
     * more for the seasonal-mean one).
     */
    public double seasonsAhead(int h) {
        return seasonsAhead(transform, h, season);
    }

    private static double seasonsAhead(Transform transform, int h, int season) {
        double sum = 0;
        int[] lags = anchorLags(transform, h, season);
        for (int lag : lags) {
            sum += (double) (lag + h) / season;
        }
        return sum / lags.length;
    }

    /** What the window drift adds to step {@code h}'s anchor for the window ending at row {@code last}: 0 without it. */
    private double trend(double[][] values, int last, int h) {
        return windowDrift ? seasonsAhead(h) * seasonalChange(values, last, lookback, season, targetIndex) : 0;
    }

    public int features() {
        return inShift.length;
    }

    /** Time steps of the network input. */
    public int steps() {
        return transform.networkSteps(lookback);
    }

    /**
     * Fits the scalers on the training rows {@code [0, trainEnd)} of {@code values[row][feature]}.
     * Statistics come from complete training samples only, so no test or validation value leaks in.
     */
    public static Preprocessor fit(Transform transform, double[][] values, int trainEnd, int lookback, int horizon,
                                   int targetIndex) {
        return fit(transform, values, trainEnd, lookback, horizon, targetIndex, 0);
    }

    /**
     * Steps back from a window's last row to the row the seasonal-naive forecast of step {@code h} (1-based) repeats:
     * {@code season * ceil(h / season) - h}, always within the last season.
     */
    public static int seasonalLag(int h, int season) {
        return season * ((h + season - 1) / season) - h;
    }

    /**
     * The seasonal anchor of step {@code h} (1-based) for the window ending at row {@code last} of {@code values}: the
     * target one season before the step ({@link #seasonalLag}), or with {@link Transform#SEASONAL_MEAN} the mean of it
     * and the value a season earlier still.
     */
    static double anchor(Transform transform, double[][] values, int last, int h, int season, int target) {
        int[] lags = anchorLags(transform, h, season);
        double sum = 0;
        for (int lag : lags) {
            sum += values[last - lag][target];
        }
        return sum / lags.length;
    }

    /** Rows back from a window's last row to each value the anchor of step {@code h} averages, nearest first. */
    public int[] anchorLags(int h) {
        return anchorLags(transform, h, season);
    }

    private static int[] anchorLags(Transform transform, int h, int season) {
        int[] lags = new int[transform.anchorSeasons()];
        for (int k = 0; k < lags.length; k++) {
            lags[k] = seasonalLag(h, season) + k * season;
        }
        return lags;
    }

    /** As {@link #fit(Transform, double[][], int, int, int, int)}, with the seasonal period the transform may need. */
    public static Preprocessor fit(Transform transform, double[][] values, int trainEnd, int lookback, int horizon,
                                   int targetIndex, int season) {
        return fit(transform, values, trainEnd, lookback, horizon, targetIndex, season, false);
    }

    /** As {@link #fit(Transform, double[][], int, int, int, int, int)}, with the anchors' trend from the window or not. */
    public static Preprocessor fit(Transform transform, double[][] values, int trainEnd, int lookback, int horizon,
                                   int targetIndex, int season, boolean windowDrift) {
        // Before any statistic: the anchors one season back must lie within the window.
        requireSeason(transform, lookback, season);
        requireWindowDrift(transform, lookback, season, windowDrift);
        int features = values[0].length;
        int firstOrigin = lookback - 1;
        int lastOrigin = trainEnd - 1 - horizon;
        // Level and differences are fitted on rows, the seasonal steps' shifts on windows where there are any (none:
        // no drift, no carry, the plain seasonal anchor), the relative transform on windows only.
        if (lastOrigin < firstOrigin && (transform == Transform.RELATIVE || trainEnd < 2)) {
            throw new IllegalArgumentException("the training part holds no complete window");
        }
        double[] inShift = new double[features];
        double[] inScale = new double[features];
        double[] outShift = new double[horizon];
        double[] outScale = new double[horizon];
        double[] anchorCarry = new double[horizon];
        switch (transform) {
            case LEVEL -> {
                for (int f = 0; f < features; f++) {
                    double min = Double.POSITIVE_INFINITY;
                    double max = Double.NEGATIVE_INFINITY;
                    for (int r = 0; r < trainEnd; r++) {
                        min = Math.min(min, values[r][f]);
                        max = Math.max(max, values[r][f]);
                    }
                    inShift[f] = min;
                    inScale[f] = nonZero(max - min);
                }
                Arrays.fill(outShift, inShift[targetIndex]);
                Arrays.fill(outScale, inScale[targetIndex]);
            }
            case DIFF, SEASONAL, SEASONAL_MEAN -> {
                for (int f = 0; f < features; f++) {
                    Moments m = new Moments();
                    for (int r = 1; r < trainEnd; r++) {
                        m.add(values[r][f] - values[r - 1][f]);
                    }
                    inShift[f] = m.mean();
                    inScale[f] = nonZero(m.std());
                }
                if (transform == Transform.DIFF) {
                    // The network predicts one-step differences of the target, distributed as its input differences.
                    Arrays.fill(outShift, inShift[targetIndex]);
                    Arrays.fill(outScale, inScale[targetIndex]);
                } else {
                    boolean carry = carries(transform, lookback, season);
                    int n = Math.max(0, lastOrigin - firstOrigin + 1);
                    // The anchors' trend from each origin's window: the same change, times each step's seasons ahead.
                    double[] change = new double[n];
                    for (int t = firstOrigin; windowDrift && t <= lastOrigin; t++) {
                        change[t - firstOrigin] = seasonalChange(values, t, lookback, season, targetIndex);
                    }
                    double aheadOfLast = windowDrift ? seasonsAhead(transform, 1, season) : 0;
                    // The anchor's error at each origin's own row: the same for every step.
                    double[] error = new double[n];
                    for (int t = firstOrigin; carry && t <= lastOrigin; t++) {
                        error[t - firstOrigin] = values[t][targetIndex] - anchor(transform, values, t - 1, 1, season, targetIndex)
                                - aheadOfLast * change[t - firstOrigin];
                    }
                    for (int h = 1; h <= horizon; h++) {
                        double[] residual = new double[n];
                        double ahead = windowDrift ? seasonsAhead(transform, h, season) : 0;
                        for (int t = firstOrigin; t <= lastOrigin; t++) {
                            residual[t - firstOrigin] = values[t + h][targetIndex] - anchor(transform, values, t, h, season, targetIndex)
                                    - ahead * change[t - firstOrigin];
                        }
                        // A deviation from the seasonal pattern that persists fades with the horizon; it does not
                        // grow or turn over. Slopes against that (noise, on a few dozen origins) would be fitted
                        // noise: the carry is held between 0 and the step before's.
                        anchorCarry[h - 1] = carry ? Math.min(Math.max(0, slope(error, residual)),
                                h == 1 ? Double.POSITIVE_INFINITY : anchorCarry[h - 2]) : 0;
                        Moments m = new Moments();
                        for (int i = 0; i < n; i++) {
                            m.add(residual[i] - anchorCarry[h - 1] * error[i]);
                        }
                        outShift[h - 1] = m.mean();
                        outScale[h - 1] = nonZero(m.std());
                    }
                }
            }
            case RELATIVE -> {
                for (int f = 0; f < features; f++) {
                    Moments m = new Moments();
                    for (int t = firstOrigin; t <= lastOrigin; t++) {
                        for (int j = t - lookback + 1; j <= t; j++) {
                            m.add(values[j][f] / values[t][f] - 1);
                        }
                    }
                    inShift[f] = m.mean();
                    inScale[f] = nonZero(m.std());
                }
                for (int h = 1; h <= horizon; h++) {
                    Moments m = new Moments();
                    for (int t = firstOrigin; t <= lastOrigin; t++) {
                        m.add(values[t + h][targetIndex] / values[t][targetIndex] - 1);
                    }
                    outShift[h - 1] = m.mean();
                    outScale[h - 1] = nonZero(m.std());
                }
            }
            default -> throw new IllegalStateException();
        }
        return new Preprocessor(transform, lookback, horizon, targetIndex, inShift, inScale, outShift, outScale, season,
                anchorCarry, windowDrift);
    }

    /**
     * The same preprocessing without the training rows' mean seasonal drift: a network that outputs 0 then forecasts
     * each step as its anchor plus the carried anchor error, no more. For first differences, without their mean: a
     * network that outputs 0 then forecasts the last value (naive).
     */
    public Preprocessor withoutDrift() {
        if (transform.anchorSeasons() == 0 && transform != Transform.DIFF) {
            throw new IllegalStateException("the " + transform.id() + " transform has no drift");
        }
        return new Preprocessor(transform, lookback, horizon, targetIndex, inShift, inScale, new double[horizon],
                outScale, season, anchorCarry, windowDrift);
    }

    /**
     * The least-squares slope of {@code y} on {@code x} with an intercept: how much of the anchor's error at the origin
     * persists into a step's error. 0 where {@code x} does not vary or there are fewer than 3 pairs to fit.
     */
    private static double slope(double[] x, double[] y) {
        if (x.length < 3) {
            return 0;
        }
        Moments mx = new Moments();
        Moments my = new Moments();
        for (int i = 0; i < x.length; i++) {
            mx.add(x[i]);
            my.add(y[i]);
        }
        double sxx = 0;
        double sxy = 0;
        double squares = 0;
        for (int i = 0; i < x.length; i++) {
            sxx += (x[i] - mx.mean()) * (x[i] - mx.mean());
            sxy += (x[i] - mx.mean()) * (y[i] - my.mean());
            squares += x[i] * x[i];
        }
        double b = sxy / sxx;
        // Errors that are constant up to rounding say nothing about persistence.
        return sxx > 1e-9 * squares && Double.isFinite(b) ? b : 0;
    }

    /** Network input for one window: {@code [steps()][features()]}. Uses the last {@code lookback} rows. */
    public float[][] input(double[][] window) {
        int start = checkWindow(window);
        int features = features();
        float[][] out = new float[steps()][features];
        for (int f = 0; f < features; f++) {
            double last = window[window.length - 1][f];
            for (int s = 0; s < out.length; s++) {
                int r = start + s;
                double v = switch (transform) {
                    case LEVEL -> window[r][f];
                    case DIFF, SEASONAL, SEASONAL_MEAN -> window[r + 1][f] - window[r][f];
                    case RELATIVE -> window[r][f] / last - 1;
                    case AUTO -> throw new IllegalStateException(AUTO_MESSAGE);
                };
                out[s][f] = (float) ((v - inShift[f]) / inScale[f]);
            }
        }
        return out;
    }

    /** Scaled training target for a window followed by {@code future[h]} raw target values, h = 0..horizon-1. */
    public float[] target(double[][] window, double[] future) {
        checkWindow(window);
        double last = window[window.length - 1][targetIndex];
        float[] out = new float[horizon];
        for (int h = 0; h < horizon; h++) {
            double v = switch (transform) {
                case LEVEL -> future[h];
                case DIFF -> future[h] - (h == 0 ? last : future[h - 1]);
                case RELATIVE -> future[h] / last - 1;
                case SEASONAL, SEASONAL_MEAN -> future[h] - anchor(transform, window, window.length - 1, h + 1, season, targetIndex)
                        - trend(window, window.length - 1, h + 1) - carried(window, h);
                case AUTO -> throw new IllegalStateException(AUTO_MESSAGE);
            };
            out[h] = (float) ((v - outShift[h]) / outScale[h]);
        }
        return out;
    }

    /** Forecasts in original units from the network's output for a window. */
    public double[] rebuild(double[][] window, float[] output) {
        double last = window[window.length - 1][targetIndex];
        double[] out = new double[horizon];
        double level = last;
        for (int h = 0; h < horizon; h++) {
            double v = output[h] * outScale[h] + outShift[h];
            out[h] = switch (transform) {
                case LEVEL -> v;
                case DIFF -> level += v;
                case RELATIVE -> last * (1 + v);
                case SEASONAL, SEASONAL_MEAN -> anchor(transform, window, window.length - 1, h + 1, season, targetIndex)
                        + trend(window, window.length - 1, h + 1) + carried(window, h) + v;
                case AUTO -> throw new IllegalStateException(AUTO_MESSAGE);
            };
        }
        return out;
    }

    /** The part of the anchor's last error carried into step {@code h} (0-based). */
    private double carried(double[][] window, int h) {
        return anchorCarry[h] == 0 ? 0 : anchorCarry[h] * anchorError(window);
    }

    private int checkWindow(double[][] window) {
        if (window.length < lookback) {
            throw new IllegalArgumentException("window has " + window.length + " rows, the model needs " + lookback);
        }
        if (window[0].length != features()) {
            throw new IllegalArgumentException("window has " + window[0].length + " features, the model needs " + features());
        }
        if (transform == Transform.RELATIVE) {
            for (int r = window.length - lookback; r < window.length; r++) {
                for (double v : window[r]) {
                    if (!(v > 0)) {
                        throw new IllegalArgumentException("the relative transform needs values > 0, got " + v);
                    }
                }
            }
        }
        return window.length - lookback;
    }

    private static double nonZero(double scale) {
        return scale > 1e-12 && Double.isFinite(scale) ? scale : 1.0;
    }

    /** Welford's running mean and variance: stable on long series of large values. */
    private static final class Moments {
        private long n;
        private double mean;
        private double m2;

        void add(double x) {
            n++;
            double d = x - mean;
            mean += d / n;
            m2 += d * (x - mean);
        }

        double mean() {
            return mean;
        }

        double std() {
            return n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
        }
    }
}
