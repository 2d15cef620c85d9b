package org.lstmcast.global;

import java.io.IOException;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * What a global model's metadata says about it: that it is global, the window it reads, its season and frequency,
 * how it normalises, and how many series and members made it.
 */
public record GlobalSpec(int lookback, int season, String frequency, String scale, int series, int members) {
    /** The metadata key of a global model's description. */
    public static final String KEY = "global";

    /** The description in an ONNX file's metadata, or null when the model is not global. */
    public static GlobalSpec fromMetadata(Map<String, String> metadata) {
        String text = metadata.get(KEY);
        if (text == null) {
            return null;
        }
        try {
            JsonNode n = new ObjectMapper().readTree(text);
            return new GlobalSpec(n.path("lookback").asInt(), n.path("season").asInt(1), n.path("frequency").asText(),
                    n.path("scale").asText(), n.path("series").asInt(), n.path("members").asInt(1));
        } catch (IOException e) {
            throw new IllegalArgumentException("the model's global metadata is malformed: " + e.getMessage(), e);
        }
    }

    /** One line for {@code inspect}. */
    public String describe() {
        return String.format(Locale.ROOT, "global model: learned across %d series, %s (season %d), reads the "
                + "last %d values (shorter histories are padded), %s scale, %d member%s", series, frequency, season,
                lookback, scale, members, members == 1 ? "" : "s");
    }
}
