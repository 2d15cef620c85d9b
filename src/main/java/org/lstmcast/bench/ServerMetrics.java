package org.lstmcast.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The batch-size counters an lstmcast server publishes on /metrics; absent on other servers. */
final class ServerMetrics {
    private ServerMetrics() {
    }

    /** {sum, count} of {@code lstmcast_batch_size} for a model, or null when the server has no such metrics. */
    static double[] batchTotals(URI base, String model) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(base.resolve("/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                return null;
            }
            double sum = value(r.body(), "lstmcast_batch_size_sum", model);
            double count = value(r.body(), "lstmcast_batch_size_count", model);
            return Double.isNaN(sum) || Double.isNaN(count) ? null : new double[] {sum, count};
        } catch (IOException | InterruptedException | IllegalArgumentException e) {
            return null;
        }
    }

    private static double value(String text, String name, String model) {
        Matcher m = Pattern.compile("^" + name + "\\{[^}]*model=\"" + Pattern.quote(model) + "\"[^}]*\\} ([0-9.eE+-]+)$",
                Pattern.MULTILINE).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }
}
