package org.lstmcast.serve.rest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import org.lstmcast.Text;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.serve.ApiException;
import org.lstmcast.serve.ServeConfig;

/** Reading and checking request bodies; every problem becomes a 400 that says what is wrong and where. */
final class Requests {

    private Requests() {
    }

    /** The windows of a forecast request, {@code [window][row][feature]}. */
    static List<double[][]> windows(JsonNode body, ForecastSpec spec, ServeConfig.Limits limits) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object: {\"inputs\": [window, ...], \"horizon\": H}");
        }
        JsonNode inputs = body.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw ApiException.badRequest("'inputs' must be a non-empty array of windows");
        }
        if (inputs.size() > limits.maxWindows()) {
            throw ApiException.badRequest("too many windows: " + inputs.size() + " (limit " + limits.maxWindows()
                    + " per request, --max-windows)");
        }
        List<double[][]> out = new ArrayList<>(inputs.size());
        int features = spec.featureCount();
        for (int w = 0; w < inputs.size(); w++) {
            JsonNode window = inputs.get(w);
            if (!window.isArray() || window.isEmpty()) {
                throw ApiException.badRequest("inputs[" + w + "] must be a non-empty array");
            }
            if (window.size() > limits.maxWindowLength()) {
                throw ApiException.badRequest("inputs[" + w + "] has " + Text.plural(window.size(), "step") + " (limit "
                        + limits.maxWindowLength() + ", --max-window-length)");
            }
            if (spec.lookback() > 0 && window.size() < spec.lookback()) {
                throw ApiException.badRequest("inputs[" + w + "] has " + Text.plural(window.size(), "step") + "; the model needs at least "
                        + spec.lookback());
            }
            double[][] rows = new double[window.size()][];
            for (int r = 0; r < window.size(); r++) {
                JsonNode step = window.get(r);
                if (step.isArray()) {
                    if (step.size() != features) {
                        throw ApiException.badRequest("inputs[" + w + "][" + r + "] has " + Text.plural(step.size(), "value")
                                + "; the model reads " + Text.plural(features, "feature") + " " + spec.features());
                    }
                    rows[r] = new double[features];
                    for (int f = 0; f < features; f++) {
                        rows[r][f] = number(step.get(f), "inputs[" + w + "][" + r + "][" + f + "]");
                    }
                } else if (features == 1) {
                    rows[r] = new double[] {number(step, "inputs[" + w + "][" + r + "]")};
                } else {
                    throw ApiException.badRequest("inputs[" + w + "][" + r + "] must be a list of " + features + " values "
                            + spec.features());
                }
            }
            out.add(rows);
        }
        if (spec.lookback() == 0) {
            int len = out.get(0).length;
            if (out.stream().anyMatch(w -> w.length != len)) {
                throw ApiException.badRequest("this model takes windows as sent: all windows of one request need the same length");
            }
        }
        return out;
    }

    static int horizon(JsonNode body, ForecastSpec spec, int maxHorizon) {
        JsonNode h = body.get("horizon");
        if (h == null || h.isNull()) {
            return spec.horizon();
        }
        if (!h.isIntegralNumber() || !h.canConvertToInt()) {
            throw ApiException.badRequest("'horizon' must be a whole number, got " + kind(h));
        }
        int horizon = h.asInt();
        if (horizon < 1 || horizon > maxHorizon) {
            throw ApiException.badRequest("'horizon' must be between 1 and " + maxHorizon + " (--max-horizon), got " + horizon);
        }
        if (horizon > spec.horizon() && !spec.univariate()) {
            throw ApiException.badRequest("this model forecasts " + Text.plural(spec.horizon(), "step") + " from "
                    + Text.plural(spec.featureCount(), "feature") + "; going further would need the other features' future, so 'horizon' is at most " + spec.horizon());
        }
        return horizon;
    }

    /**
     * The interval levels a forecast request asks for ({@code "intervals": [80, 95]}), as indices into the model's
     * levels; null when it asks for none.
     */
    static int[] intervals(JsonNode body, String model, Intervals intervals) {
        JsonNode asked = body.get("intervals");
        if (asked == null || asked.isNull()) {
            return null;
        }
        if (!asked.isArray()) {
            throw ApiException.badRequest("'intervals' must be an array of levels in percent, e.g. [80, 95]");
        }
        if (asked.isEmpty()) {
            return null;
        }
        if (intervals == null) {
            throw ApiException.badRequest("model '" + model + "' has no calibrated prediction intervals: neither its "
                    + "file's metadata nor its forecast.json holds any (lstmcast train calibrates them)");
        }
        int[] out = new int[asked.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode level = asked.get(i);
            int index = level.isIntegralNumber() && level.canConvertToInt() ? intervals.levelIndex(level.asInt()) : -1;
            if (index < 0) {
                throw ApiException.badRequest("intervals[" + i + "] is " + kind(level)
                        + "; model '" + model + "' has levels " + Arrays.toString(intervals.levels()));
            }
            out[i] = index;
        }
        return out;
    }

    static double number(JsonNode n, String where) {
        if (n == null || !n.isNumber()) {
            throw ApiException.badRequest(where + " must be a number, got " + (n == null ? "nothing" : kind(n)));
        }
        double v = n.asDouble();
        if (!Double.isFinite(v) || Math.abs(v) > Float.MAX_VALUE) {
            throw ApiException.badRequest(where + " is out of range for float32");
        }
        return v;
    }

    /**
     * What a client sent where something else was expected, with the value where it is short enough to quote, so that
     * {@code "5"} for 5 is seen at once: {@code the string "5"}, {@code 2.5}, {@code an array}.
     */
    static String kind(JsonNode n) {
        return switch (n.getNodeType()) {
            case STRING -> n.asText().length() <= 40 ? "the string " + n : "a string";
            case NUMBER -> n.toString().length() <= 40 ? n.toString() : "a number";
            case BOOLEAN -> n.toString();
            case NULL -> "null";
            case ARRAY -> "an array";
            case OBJECT -> "an object";
            default -> n.getNodeType().toString().toLowerCase(Locale.ROOT);
        };
    }
}
