package org.lstmcast.data;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * The field separator of a delimited text file, read from its header line: spreadsheets in many locales save "CSV"
 * with semicolons, and tab-separated exports are common, so a comma is not assumed.
 */
final class Delimiters {
    private static final char[] CANDIDATES = {',', ';', '\t'};
    private static final int MAX_HEADER_CHARS = 1 << 16;

    private Delimiters() {
    }

    /** The separator of the header line ahead in {@code in}, which is left where it was. */
    static char sniff(BufferedReader in) throws IOException {
        in.mark(MAX_HEADER_CHARS);
        StringBuilder line = new StringBuilder();
        for (int c = in.read(); c >= 0 && c != '\n' && c != '\r' && line.length() < MAX_HEADER_CHARS - 1; c = in.read()) {
            line.append((char) c);
        }
        in.reset();
        return of(line.toString());
    }

    /**
     * The candidate that occurs most often outside quotes in {@code header}; a comma when none occurs, or when another
     * occurs no more often than it does.
     */
    static char of(String header) {
        int[] counts = new int[CANDIDATES.length];
        boolean quoted = false;
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (!quoted) {
                for (int k = 0; k < CANDIDATES.length; k++) {
                    counts[k] += c == CANDIDATES[k] ? 1 : 0;
                }
            }
        }
        int best = 0;
        for (int k = 1; k < CANDIDATES.length; k++) {
            if (counts[k] > counts[best]) {
                best = k;
            }
        }
        return CANDIDATES[best];
    }

    /**
     * A hint for a header that names no expected column: a header name holding a separator other than the file's,
     * as {@code " (the header name 'c;d' holds a ';': is the file ';'-separated?)"}; empty when there is none.
     */
    static String hint(Iterable<String> header, char delimiter) {
        for (String cell : header) {
            for (char c : CANDIDATES) {
                if (c != delimiter && cell.indexOf(c) >= 0) {
                    String name = c == '\t' ? "tab" : "'" + c + "'";
                    return " (the header name '" + cell.replace("\t", "\\t") + "' holds a " + name + ": is the file "
                            + name + "-separated?)";
                }
            }
        }
        return "";
    }
}
