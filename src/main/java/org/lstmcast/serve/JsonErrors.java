package org.lstmcast.serve;

import java.util.regex.Pattern;

import com.fasterxml.jackson.core.JacksonException;

/**
 * The wording of a JSON parser's complaint, shared by request bodies and the repository's settings files: where, and
 * what, without the parser's own internals (its source description, the names of its configuration methods).
 */
public final class JsonErrors {
    private static final Pattern START_MARKER = Pattern.compile(
            "\\s*\\(start marker at \\[Source:.*?line: (\\d+), column: (\\d+)\\]\\)");

    private JsonErrors() {
    }

    public static String describe(JacksonException e) {
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
}
