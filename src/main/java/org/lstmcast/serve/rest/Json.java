package org.lstmcast.serve.rest;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.serve.ApiException;

/** Request and answer bodies. */
final class Json {
    // Deep nesting and huge numbers are refused by the parser itself, before they cost memory or stack.
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(64)
                    .maxStringLength(1 << 20).build())
            // {"inputs": a, "inputs": b} is ambiguous: refuse it rather than silently take one.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private Json() {
    }

    static JsonNode parse(byte[] body) throws IOException {
        return parse(body, body.length);
    }

    /** The JSON in the first {@code length} bytes of {@code body}. */
    static JsonNode parse(byte[] body, int length) throws IOException {
        if (length == 0) {
            throw ApiException.badRequest("empty body; send a JSON object");
        }
        return MAPPER.readTree(body, 0, length);
    }

    static byte[] bytes(Object value) {
        try {
            return MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode the answer", e);
        }
    }

    static byte[] error(String message) {
        return bytes(Map.of("error", message == null ? "error" : message));
    }
}
