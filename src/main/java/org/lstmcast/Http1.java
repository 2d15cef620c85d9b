package org.lstmcast;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * HTTP/1.1 as lstmcast's own clients speak it on a plain socket: {@code lstmcast bench} and the server's warm-up
 * traffic. Hand-written because both send prepared bytes as fast as answers come, where a general client's own work
 * (and, in a warming server, its code for the JIT to compile) would be what gets measured.
 */
public final class Http1 {
    /** How much of a body that is not 2xx is kept, for the reason it gives. */
    private static final int KEPT_BODY = 300;

    private Http1() {
    }

    /**
     * One response: its status, the start of its body when the status is not 2xx (null otherwise), and whether the
     * server closes the connection after it.
     */
    public record Response(int status, String body, boolean close) {
    }

    /** A POST of {@code body} to {@code url}; {@code moreHeaders} are whole header lines, each ending in CRLF. */
    public static byte[] post(URI url, String contentType, String moreHeaders, byte[] body) {
        String head = "POST " + url.getRawPath() + " HTTP/1.1\r\nHost: " + url.getHost() + ":" + url.getPort()
                + "\r\nContent-Type: " + contentType + "\r\n" + moreHeaders + "Content-Length: " + body.length + "\r\n\r\n";
        byte[] h = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[h.length + body.length];
        System.arraycopy(h, 0, all, 0, h.length);
        System.arraycopy(body, 0, all, h.length, body.length);
        return all;
    }

    /** Reads one response (a Content-Length or a chunked body, its trailers included); anything else is an IOException. */
    public static Response readResponse(InputStream in) throws IOException {
        String statusLine = line(in);
        int status;
        try {
            if (!statusLine.startsWith("HTTP/1.")) {
                throw new IOException("not an HTTP response: " + statusLine);
            }
            status = Integer.parseInt(statusLine.substring(9, 12));
        } catch (IndexOutOfBoundsException | NumberFormatException e) {
            throw new IOException("not an HTTP status line: " + statusLine);
        }
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        for (String h = line(in); !h.isEmpty(); h = line(in)) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Length")) {
                length = number(value, 10);
            } else if (name.equalsIgnoreCase("Transfer-Encoding") && value.equalsIgnoreCase("chunked")) {
                chunked = true;
            } else if (name.equalsIgnoreCase("Connection") && value.equalsIgnoreCase("close")) {
                close = true;
            }
        }
        ByteArrayOutputStream kept = status / 100 == 2 ? null : new ByteArrayOutputStream();
        if (chunked) {
            for (long size = number(line(in).split(";")[0].trim(), 16); size > 0;
                 size = number(line(in).split(";")[0].trim(), 16)) {
                skip(in, keep(in, size, kept));
                line(in);
            }
            while (!line(in).isEmpty()) {
                // trailers
            }
        } else if (length > 0) {
            skip(in, keep(in, length, kept));
        }
        return new Response(status, kept == null ? null : kept.toString(StandardCharsets.UTF_8), close);
    }

    private static long number(String text, int radix) throws IOException {
        try {
            return Long.parseLong(text, radix);
        } catch (NumberFormatException e) {
            throw new IOException("not a length: " + text);
        }
    }

    /** Copies up to what {@code kept} still has room for from the next {@code n} body bytes; returns the bytes left. */
    private static long keep(InputStream in, long n, ByteArrayOutputStream kept) throws IOException {
        int room = kept == null ? 0 : (int) Math.min(n, KEPT_BODY - kept.size());
        for (int i = 0; i < room; i++) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed mid-body");
            }
            kept.write(b);
        }
        return n - room;
    }

    private static void skip(InputStream in, long n) throws IOException {
        for (long left = n; left > 0; ) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed mid-body");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed mid-response");
            }
            if (c != '\r') {
                s.append((char) c);
            }
        }
        return s.toString();
    }
}
