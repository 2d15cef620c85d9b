package org.lstmcast.train;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lstmcast.forecast.Intervals;
import org.lstmcast.metrics.MetricSet;

/** The accuracy table printed after training: one block per horizon step, the model beside its baselines. */
public final class Report {
    private Report() {
    }

    public static String table(Evaluation ev) {
        return table(ev, "lstm");
    }

    /** As {@link #table(Evaluation)}, the model's rows named {@code model} ("anchor" where no network was kept). */
    public static String table(Evaluation ev, String model) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-5s %-15s %12s %12s %8s %8s %7s%n",
                "step", "method", "MAE", "RMSE", "MAPE%", "sMAPE%", "MASE"));
        List<Map.Entry<String, MetricSet>> methods = new ArrayList<>();
        methods.add(Map.entry(model, ev.model()));
        methods.addAll(ev.baselines().entrySet());
        int horizon = ev.model().mae().length;
        for (int h = 0; h < horizon; h++) {
            for (Map.Entry<String, MetricSet> m : methods) {
                MetricSet s = m.getValue();
                sb.append(String.format(Locale.ROOT, "%-5s %-15s %12s %12s %8s %8s %7s%n",
                        h + 1, m.getKey(), num(s.mae()[h]), num(s.rmse()[h]), pct(s.mape()[h]), pct(s.smape()[h]),
                        String.format(Locale.ROOT, "%.3f", s.mase()[h])));
            }
        }
        return sb.toString();
    }

    /** "Transform: seasonal (auto; validation RMSE diff 12.3, seasonal 9.87)." from metrics.json's transform entry. */
    public static String transform(Map<String, Object> metrics) {
        Map<?, ?> t = (Map<?, ?>) metrics.get("transform");
        StringBuilder sb = new StringBuilder("Transform: " + t.get("used"));
        if (t.get("validation_rmse") instanceof Map<?, ?> scores) {
            StringBuilder each = new StringBuilder();
            scores.forEach((k, v) -> each.append(each.length() == 0 ? "" : ", ").append(k).append(' ').append(score(v)));
            sb.append(" (auto; validation RMSE ").append(each).append(')');
        }
        sb.append('.').append(System.lineSeparator());
        if (t.get("anchor_against_network") instanceof Map<?, ?> a) {
            sb.append(String.format(Locale.ROOT, "Kept: the %s. On the validation rows, the anchor's mean squared "
                            + "error minus the %s network's is %s (standard error %s); a network is kept only where "
                            + "it is better by more than one standard error.%n",
                    "anchor".equals(a.get("kept")) ? a.get("anchor") : "network", a.get("network"),
                    score(a.get("mse_difference")), score(a.get("standard_error"))));
        }
        if (metrics.get("ensemble") instanceof Map<?, ?> e) {
            StringBuilder each = new StringBuilder();
            for (Object v : (List<?>) e.get("validation_rmse_members")) {
                each.append(each.length() == 0 ? "" : ", ").append(score(v));
            }
            Object all = e.get("validation_rmse");
            sb.append(String.format(Locale.ROOT, "Ensemble: the mean of %s networks (seeds %s); validation RMSE %s, the "
                            + "members' %s; the other members trained in %.1f s.%n", e.get("members"), e.get("seeds"),
                    all == null ? "not finite" : score(all), each,
                    ((Number) e.get("seconds_other_members")).doubleValue()));
        }
        if (metrics.get("refit") instanceof Map<?, ?> r && t.get("network") == null) {
            int n = ((Number) r.get("networks")).intValue();
            sb.append(String.format(Locale.ROOT, "Refit: %s (seeds %s) trained again on the %s training and validation "
                            + "rows for the %s epochs early stopping chose, in %.1f s; the intervals are calibrated by "
                            + "the network that did not see the validation rows.%n",
                    n == 1 ? "one network" : "the mean of " + n + " networks", r.get("seeds"), r.get("rows"),
                    r.get("epochs"), ((Number) r.get("seconds")).doubleValue()));
        }
        return sb.toString();
    }

    /** A validation score as metrics.json holds it: null where training failed or the score was not finite. */
    private static String score(Object v) {
        return v == null ? "failed" : String.format(Locale.ROOT, "%.4g", ((Number) v).doubleValue());
    }

    /** One line per level: the calibration, then the test part's coverage per step (nominal beside it). */
    public static String intervals(Intervals intervals, Evaluation ev) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "Prediction intervals %s, calibrated on %d validation forecasts per step; test coverage per step:%n",
                intervals.describe(), Arrays.stream(intervals.calibrationWindows()).min().orElse(0)));
        Map<String, Object> score = intervals.score(ev.forecasts(), ev.actual());
        for (int level : intervals.levels()) {
            double[] coverage = (double[]) ((Map<?, ?>) score.get(Integer.toString(level))).get("coverage");
            sb.append(String.format(Locale.ROOT, "  %d%%:", level));
            for (double c : coverage) {
                sb.append(String.format(Locale.ROOT, " %.0f%%", 100 * c));
            }
            sb.append(System.lineSeparator());
        }
        return sb.toString();
    }

    private static String num(double v) {
        return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v != 0) ? String.format(Locale.ROOT, "%.4g", v)
                : String.format(Locale.ROOT, "%.4f", v);
    }

    private static String pct(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.3f", v) : "n/a";
    }
}
