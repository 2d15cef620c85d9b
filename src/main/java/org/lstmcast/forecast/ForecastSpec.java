package org.lstmcast.forecast;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * How to ask a model for forecasts: which input and output to use, how many rows of history it reads and how many
 * steps it returns, and what its input columns are. lstmcast writes these into an ONNX file's metadata; for other
 * models they come from the signature and the user.
 *
 * @param lookback rows of history the model reads; windows may be longer, only their last rows are used; 0 when the
 *                 model takes any length and windows are used as sent
 * @param features input column names, in input order; the target is the first
 * @param transform how the graph preprocesses ({@code level}, {@code diff}, {@code relative}), or null if unknown
 * @param timeMajor whether the model reads {@code [sequence, batch, features]} rather than batch-first
 */
public record ForecastSpec(String inputName, String outputName, int lookback, int horizon, List<String> features,
                           String target, String transform, String timeColumn, boolean timeMajor) {

    public static final String INPUT = "input";
    public static final String OUTPUT = "forecast";
    public static final String KEY_LOOKBACK = "lookback";
    public static final String KEY_HORIZON = "horizon";
    public static final String KEY_FEATURES = "features";
    public static final String KEY_TARGET = "target";
    public static final String KEY_TRANSFORM = "transform";
    public static final String KEY_TIME_COLUMN = "time_column";
    /** What an lstmcast graph computes: "5 LSTM networks on diff", or "none: ..." where an anchor alone was kept. */
    public static final String KEY_NETWORK = "network";

    public ForecastSpec {
        features = List.copyOf(features);
        if (lookback < 0 || horizon < 1 || features.isEmpty()) {
            throw new IllegalArgumentException("a forecast needs lookback >= 0, horizon >= 1 and at least one feature");
        }
    }

    /** A batch-first model's settings. */
    public ForecastSpec(String inputName, String outputName, int lookback, int horizon, List<String> features,
                        String target, String transform, String timeColumn) {
        this(inputName, outputName, lookback, horizon, features, target, transform, timeColumn, false);
    }

    /** The same settings with the input read as {@code [sequence, batch, features]} when {@code timeMajor}. */
    public ForecastSpec withTimeMajor(boolean timeMajor) {
        return new ForecastSpec(inputName, outputName, lookback, horizon, features, target, transform, timeColumn, timeMajor);
    }

    /** The axis of the input that holds the time steps. */
    public int sequenceAxis() {
        return timeMajor ? 0 : 1;
    }

    /** The axis of the input that holds the windows of a batch. */
    public int batchAxis() {
        return timeMajor ? 1 : 0;
    }

    public int featureCount() {
        return features.size();
    }

    public boolean univariate() {
        return features.size() == 1;
    }

    /** The spec an lstmcast export carries in its metadata, or null when the metadata does not hold one. */
    public static ForecastSpec fromMetadata(Map<String, String> metadata) {
        String lookback = metadata.get(KEY_LOOKBACK);
        String horizon = metadata.get(KEY_HORIZON);
        String features = metadata.get(KEY_FEATURES);
        if (lookback == null || horizon == null || features == null) {
            return null;
        }
        try {
            List<String> names = new ObjectMapper().readValue(features, new TypeReference<List<String>>() {
            });
            return new ForecastSpec(INPUT, OUTPUT, Integer.parseInt(lookback.trim()), Integer.parseInt(horizon.trim()),
                    names, metadata.getOrDefault(KEY_TARGET, names.get(0)), metadata.get(KEY_TRANSFORM),
                    metadata.get(KEY_TIME_COLUMN));
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("the model's forecast metadata is malformed: " + e.getMessage(), e);
        }
    }
}
