package org.lstmcast.forecast;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * Prediction intervals calibrated by split conformal prediction, one per horizon step and level: the half-width of
 * the level-{@code p} interval at step {@code h} is the {@code ceil((n + 1) p)}-th smallest of the {@code n} absolute
 * errors that forecasts made {@code h} steps ahead showed on rows the network was not fitted to. In the relative
 * space the errors are divided by the forecast's magnitude and the half-width is multiplied back by it, so the band
 * scales with the level, as errors of a series with multiplicative noise do.
 *
 * <p>The same numbers travel in an ONNX file's metadata ({@value #KEY}) beside the graph outputs
 * {@value #LOWER} and {@value #UPPER} that apply them, so a server computes exactly what the file's own outputs say.
 *
 * @param levels             coverage levels in percent, ascending, e.g. {@code [80, 95]}
 * @param relative           whether half-widths are fractions of the forecast's magnitude rather than units
 * @param halfWidth          {@code halfWidth[h][l]}: step {@code h + 1}, level {@code levels[l]}
 * @param calibrationWindows forecasts per step the half-widths were drawn from
 */
public record Intervals(int[] levels, boolean relative, double[][] halfWidth, int[] calibrationWindows) {
    /** The metadata key of an ONNX file's intervals. */
    public static final String KEY = "intervals";
    public static final String LOWER = "forecast_lower";
    public static final String UPPER = "forecast_upper";
    /** What {@code lstmcast train} calibrates unless told otherwise. */
    public static final List<Integer> DEFAULT_LEVELS = List.of(80, 95);

    public Intervals {
        if (levels.length == 0 || halfWidth.length == 0 || calibrationWindows.length != halfWidth.length) {
            throw new IllegalArgumentException("intervals need at least one level and one step");
        }
        for (int i = 0; i < levels.length; i++) {
            if (levels[i] <= 0 || levels[i] >= 100 || i > 0 && levels[i] <= levels[i - 1]) {
                throw new IllegalArgumentException("interval levels must be ascending percentages between 0 and 100, got "
                        + Arrays.toString(levels));
            }
        }
        for (double[] row : halfWidth) {
            if (row.length != levels.length) {
                throw new IllegalArgumentException("one half-width per level and step is needed");
            }
            for (double w : row) {
                if (!(w >= 0) || !Double.isFinite(w)) {
                    throw new IllegalArgumentException("interval half-widths must be finite and >= 0, got " + w);
                }
            }
        }
    }

    /**
     * Calibrates from forecasts and what happened: {@code forecasts[h][i]} was made {@code h + 1} steps before the
     * row whose value is {@code actuals[h][i]}.
     */
    public static Intervals fit(List<Integer> levels, boolean relative, double[][] forecasts, double[][] actuals) {
        int horizon = forecasts.length;
        double[][] width = new double[horizon][levels.size()];
        int[] n = new int[horizon];
        for (int h = 0; h < horizon; h++) {
            double[] errors = new double[forecasts[h].length];
            for (int i = 0; i < errors.length; i++) {
                double f = forecasts[h][i];
                double e = Math.abs(actuals[h][i] - f);
                errors[i] = relative ? e / Math.max(Math.abs(f), Double.MIN_NORMAL) : e;
            }
            Arrays.sort(errors);
            n[h] = errors.length;
            if (n[h] == 0) {
                throw new IllegalArgumentException("no calibration forecast for step " + (h + 1));
            }
            double rms = 0;
            for (double e : errors) {
                rms += e * e;
            }
            rms = Math.sqrt(rms / errors.length);
            for (int l = 0; l < levels.size(); l++) {
                int level = levels.get(l);
                width[h][l] = guaranteed(n[h], level) ? errors[rank(n[h], level) - 1]
                        : Math.max(errors[n[h] - 1], studentQuantile(level, n[h]) * rms);
            }
        }
        return new Intervals(levels.stream().mapToInt(Integer::intValue).toArray(), relative, width, n);
    }

    /**
     * The two-sided quantile of Student's t with {@code n} degrees of freedom (2.447 for 95% from 6 forecasts; 1.960
     * as {@code n} grows): the fallback where too few forecasts leave the conformal rank beyond the largest error. The
     * largest of {@code n} errors covers only {@code n / (n + 1)} on average, so there the half-width is the larger of
     * it and this quantile times the errors' root mean square. Zero-mean normal errors whose spread is estimated from
     * {@code n} of them give a new error over that estimate a t distribution with {@code n} degrees of freedom; the
     * normal quantile would be too narrow by as much as the estimate is uncertain, the most where forecasts are fewest.
     */
    static double studentQuantile(int percent, int n) {
        return new org.apache.commons.math3.distribution.TDistribution(null, n,
                org.apache.commons.math3.distribution.TDistribution.DEFAULT_INVERSE_ABSOLUTE_ACCURACY)
                .inverseCumulativeProbability(0.5 + percent / 200.0);
    }

    /**
     * The conformal rank {@code ceil((n + 1) p)}, as a 1-based index into the sorted errors; capped at {@code n}, where
     * too few forecasts leave the largest error as the widest the data can give.
     */
    static int rank(int n, int percent) {
        long k = ((long) (n + 1) * percent + 99) / 100;
        return (int) Math.max(1, Math.min(n, k));
    }

    /** Whether {@code n} forecasts are enough for the level's finite-sample guarantee ({@link #rank} not capped). */
    public static boolean guaranteed(int n, int percent) {
        return ((long) (n + 1) * percent + 99) / 100 <= n;
    }

    public int horizon() {
        return halfWidth.length;
    }

    /** The index of a level, or -1 when these intervals do not have it. */
    public int levelIndex(int percent) {
        for (int l = 0; l < levels.length; l++) {
            if (levels[l] == percent) {
                return l;
            }
        }
        return -1;
    }

    /** Half the width of the interval around {@code forecast} at step {@code step} (0-based), level index {@code l}. */
    public double halfWidth(double forecast, int step, int l) {
        return relative ? halfWidth[step][l] * Math.abs(forecast) : halfWidth[step][l];
    }

    /** {@code [lower, upper]} per step, for forecasts of up to {@link #horizon()} steps. */
    public double[][] bounds(double[] forecast, int l) {
        if (forecast.length > horizon()) {
            throw new IllegalArgumentException("intervals are calibrated for " + horizon() + " steps, not " + forecast.length);
        }
        double[] lower = new double[forecast.length];
        double[] upper = new double[forecast.length];
        for (int h = 0; h < forecast.length; h++) {
            // float32, as the ONNX graph computes them: f - w and f + w with float operands.
            float f = (float) forecast[h];
            float w = relative ? (float) halfWidth[h][l] * Math.abs(f) : (float) halfWidth[h][l];
            lower[h] = f - w;
            upper[h] = f + w;
        }
        return new double[][] {lower, upper};
    }

    /**
     * {@code [lower, upper]} per step for a forecast of any length: the calibrated steps as {@link #bounds} gives them;
     * beyond the calibrated horizon {@code H}, for a forecast rolled forward on its own forecasts, no errors were ever
     * seen, so the last step's half-width grows as a random walk's spread does, by {@code sqrt(h / H)} at step {@code h}
     * (applied to the forecast's magnitude in the relative space). Those steps are an extrapolation, not a calibration:
     * callers say so, from step {@link #horizon()} + 1 on.
     */
    public double[][] boundsExtended(double[] forecast, int l) {
        int calibrated = Math.min(horizon(), forecast.length);
        double[][] within = bounds(Arrays.copyOf(forecast, calibrated), l);
        double[] lower = Arrays.copyOf(within[0], forecast.length);
        double[] upper = Arrays.copyOf(within[1], forecast.length);
        int last = horizon() - 1;
        for (int h = calibrated; h < forecast.length; h++) {
            double grow = Math.sqrt((h + 1) / (double) horizon());
            float f = (float) forecast[h];
            float w = (float) (grow * (relative ? halfWidth[last][l] * Math.abs(f) : halfWidth[last][l]));
            lower[h] = f - w;
            upper[h] = f + w;
        }
        return new double[][] {lower, upper};
    }

    /** The first step ({@code 1}-based) whose bounds {@link #boundsExtended} extrapolates, or 0 when none is. */
    public int extrapolatedFrom(int steps) {
        return steps > horizon() ? horizon() + 1 : 0;
    }

    /**
     * How the intervals did on rows they were not calibrated on: per level, per step, the share of actual values
     * inside the interval and the mean interval score (Gneiting and Raftery's: the width plus {@code 2 / alpha} times
     * the distance by which the actual value falls outside; lower is better, in the series' units).
     *
     * @param forecasts {@code forecasts[i][h]}, the forecast of row {@code i} made {@code h + 1} steps before it
     */
    public Map<String, Object> score(double[][] forecasts, double[] actual) {
        Map<String, Object> out = new LinkedHashMap<>();
        int horizon = Math.min(horizon(), forecasts.length == 0 ? 0 : forecasts[0].length);
        for (int l = 0; l < levels.length; l++) {
            double alpha = 1 - levels[l] / 100.0;
            double[] coverage = new double[horizon];
            double[] score = new double[horizon];
            for (int h = 0; h < horizon; h++) {
                int inside = 0;
                double sum = 0;
                for (int i = 0; i < actual.length; i++) {
                    double w = halfWidth(forecasts[i][h], h, l);
                    double lo = forecasts[i][h] - w;
                    double hi = forecasts[i][h] + w;
                    double y = actual[i];
                    if (y >= lo && y <= hi) {
                        inside++;
                    }
                    sum += (hi - lo) + 2 / alpha * (Math.max(0, lo - y) + Math.max(0, y - hi));
                }
                coverage[h] = actual.length == 0 ? Double.NaN : (double) inside / actual.length;
                score[h] = actual.length == 0 ? Double.NaN : sum / actual.length;
            }
            Map<String, Object> level = new LinkedHashMap<>();
            level.put("coverage", coverage);
            level.put("interval_score", score);
            out.put(Integer.toString(levels[l]), level);
        }
        return out;
    }

    /** The form kept in {@code metrics.json}, a model file and an ONNX file's metadata. */
    public Map<String, Object> toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("levels", levels);
        m.put("space", relative ? "relative" : "absolute");
        m.put("half_width", halfWidth);
        m.put("calibration_windows", calibrationWindows);
        return m;
    }

    public String toMetadata() {
        try {
            return new ObjectMapper().writeValueAsString(toJson());
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Reads {@link #toJson()}'s form back; null for null. */
    public static Intervals fromJson(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        try {
            JsonNode levels = n.path("levels");
            JsonNode width = n.path("half_width");
            if (!levels.isArray() || !width.isArray() || width.isEmpty()) {
                throw new IllegalArgumentException("'levels' and 'half_width' must be arrays");
            }
            int[] lv = new int[levels.size()];
            for (int l = 0; l < lv.length; l++) {
                if (!levels.get(l).canConvertToInt()) {
                    throw new IllegalArgumentException("levels must be whole percentages");
                }
                lv[l] = levels.get(l).asInt();
            }
            double[][] w = new double[width.size()][lv.length];
            int[] n2 = new int[width.size()];
            for (int h = 0; h < w.length; h++) {
                JsonNode row = width.get(h);
                if (!row.isArray() || row.size() != lv.length) {
                    throw new IllegalArgumentException("half_width[" + h + "] must hold one number per level");
                }
                for (int l = 0; l < lv.length; l++) {
                    if (!row.get(l).isNumber()) {
                        throw new IllegalArgumentException("half_width[" + h + "][" + l + "] must be a number");
                    }
                    w[h][l] = row.get(l).asDouble();
                }
                n2[h] = n.path("calibration_windows").path(h).asInt(0);
            }
            String space = n.path("space").asText("absolute");
            if (!space.equals("absolute") && !space.equals("relative")) {
                throw new IllegalArgumentException("space must be absolute or relative, got '" + space + "'");
            }
            return new Intervals(lv, space.equals("relative"), w, n2);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed intervals: " + e.getMessage(), e);
        }
    }

    public static Intervals fromMetadata(Map<String, String> metadata) {
        String text = metadata.get(KEY);
        if (text == null) {
            return null;
        }
        try {
            return fromJson(new ObjectMapper().readTree(text));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("malformed intervals: " + e.getOriginalMessage(), e);
        }
    }

    /** "80% and 95%", for messages. */
    public String describe() {
        StringBuilder b = new StringBuilder();
        for (int l = 0; l < levels.length; l++) {
            b.append(l == 0 ? "" : l == levels.length - 1 ? " and " : ", ").append(levels[l]).append('%');
        }
        return String.format(Locale.ROOT, "%s (%s)", b, relative ? "relative to the forecast" : "in the series' units");
    }
}
