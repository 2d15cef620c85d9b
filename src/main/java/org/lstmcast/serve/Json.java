package org.lstmcast.serve;

import java.io.IOException;
import java.util.Map;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Request and answer bodies. */
final class Json {
    // Deep nesting and huge numbers are refused by the parser itself, before they cost memory or stack.
    private static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).maxNumberLength(64)
                    .maxStringLength(1 << 20).build())
            // {"inputs": a, "inputs": b} is ambiguous: refuse it rather than silently take one.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private static final java.util.regex.Pattern START_MARKER = java.util.regex.Pattern.compile(
            "\\s*\\(start marker at \\[Source:.*?line: (\\d+), column: (\\d+)\\]\\)");

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

    /**
     * A parser's complaint as a client should read it: where, and what, without the parser's own internals (its
     * source description, the names of its configuration methods).
     */
    static String describe(JacksonException e) {
        String what = e.getOriginalMessage() == null ? "unreadable" : e.getOriginalMessage();
        what = what.lines().findFirst().orElse(what);
        // An unclosed array or object names where it opened inside the parser's own location description.
        what = START_MARKER.matcher(what).replaceAll(" (opened at line $1, column $2)")
                .replaceAll("\\s*\\(?\\[Source:.*?\\]\\)?", "")
                .replaceAll("\\('(.{1,2})' \\(code \\d+\\)\\)", "'$1'")
                .replaceAll("\\s*\\(?(?:from|set by|see)?\\s*`[^`]*`\\)?", "")
                .replaceAll("\\s+", " ").trim();
        var where = e.getLocation();
        return where == null || where.getLineNr() < 1 ? "malformed JSON: " + what
                : "malformed JSON at line " + where.getLineNr() + ", column " + where.getColumnNr() + ": " + what;
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
