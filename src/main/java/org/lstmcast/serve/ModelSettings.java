package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.Scaling;
import org.lstmcast.repository.ModelRepository;

/**
 * Per-model settings from the optional files beside the versions: {@code config.json} (batching overrides) and
 * {@code forecast.json} (how to forecast with a model that carries no lstmcast metadata).
 */
record ModelSettings(int maxBatchSize, long maxQueueDelayUs, int maxQueue, ForecastOverride forecast) {

    /**
     * What {@code forecast.json} says; every field optional.
     *
     * @param timeMajor the layout it names, or null when it names none
     */
    record ForecastOverride(String input, String output, Boolean timeMajor, int lookback, Scaling scaling, String transform,
                            Intervals intervals) {
        ForecastSpec apply(ForecastSpec base) {
            String in = input != null ? input : base.inputName();
            String out = output != null ? output : base.outputName();
            int lb = lookback > 0 ? lookback : base.lookback();
            return new ForecastSpec(in, out, lb, base.horizon(), base.features(), base.target(), base.transform(),
                    base.timeColumn(), timeMajor != null ? timeMajor : base.timeMajor());
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The same settings once a conversion has folded {@code forecast.json} into the model itself. */
    ModelSettings withoutForecast() {
        return new ModelSettings(maxBatchSize, maxQueueDelayUs, maxQueue, null);
    }

    static ModelSettings read(Path modelDir, ServeConfig defaults) throws IOException {
        int maxBatch = defaults.maxBatchSize();
        long delay = defaults.maxQueueDelayUs();
        int maxQueue = defaults.maxQueue();
        Path config = modelDir.resolve(ModelRepository.CONFIG_FILE);
        if (Files.isRegularFile(config)) {
            JsonNode c = readJson(config);
            maxBatch = positive(c, "max_batch_size", maxBatch);
            delay = c.has("max_queue_delay_us") ? Math.max(0, c.get("max_queue_delay_us").asLong()) : delay;
            maxQueue = positive(c, "max_queue", maxQueue);
        }
        ForecastOverride forecast = null;
        Path fc = modelDir.resolve(ModelRepository.FORECAST_FILE);
        if (Files.isRegularFile(fc)) {
            JsonNode f = readJson(fc);
            Scaling scaling = null;
            if (f.hasNonNull("scaling")) {
                JsonNode s = f.get("scaling");
                scaling = new Scaling(doubles(s.get("min")), doubles(s.get("max")), f.path("target_index").asInt(0));
            }
            String layout = text(f, "layout");
            if (layout != null && !layout.equals("batch_major") && !layout.equals("time_major")) {
                throw new IllegalArgumentException("forecast.json: layout must be batch_major or time_major, got " + layout);
            }
            Intervals intervals;
            try {
                // Residual quantiles calibrated wherever the model was trained, in the form lstmcast writes them.
                intervals = Intervals.fromJson(f.get("intervals"));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("forecast.json: " + e.getMessage(), e);
            }
            forecast = new ForecastOverride(text(f, "input"), text(f, "output"),
                    layout == null ? null : layout.equals("time_major"), f.path("lookback").asInt(0), scaling, text(f, "transform"),
                    intervals);
        }
        return new ModelSettings(maxBatch, delay, maxQueue, forecast);
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            JsonNode node = JSON.readTree(file.toFile());
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file.getFileName() + ": must hold a JSON object");
            }
            return node;
        } catch (JacksonException e) {
            throw new IllegalArgumentException(file.getFileName() + ": " + JsonErrors.describe(e));
        }
    }

    private static int positive(JsonNode c, String key, int fallback) {
        if (!c.has(key)) {
            return fallback;
        }
        int v = c.get(key).asInt(-1);
        if (v < 1) {
            throw new IllegalArgumentException("config.json: " + key + " must be a positive integer");
        }
        return v;
    }

    private static String text(JsonNode n, String key) {
        return n.hasNonNull(key) ? n.get(key).asText() : null;
    }

    private static double[] doubles(JsonNode n) {
        if (n == null || !n.isArray()) {
            throw new IllegalArgumentException("forecast.json: scaling.min and scaling.max must be arrays of numbers");
        }
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isNumber()) {
                throw new IllegalArgumentException("forecast.json: scaling values must be numbers");
            }
            out[i] = n.get(i).asDouble();
        }
        return out;
    }
}
