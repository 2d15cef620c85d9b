package org.lstmcast.bench;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/** Request bodies and the result rows and tables of {@code lstmcast bench}. */
public final class Benchmarks {
    private Benchmarks() {
    }

    /** A forecast request of {@code windows} univariate windows of {@code steps} plausible index levels. */
    public static String body(int windows, int steps) {
        StringBuilder sb = new StringBuilder("{\"inputs\": [");
        double[][] levels = levels(windows, steps);
        for (int w = 0; w < windows; w++) {
            sb.append(w > 0 ? "," : "").append('[');
            for (int s = 0; s < steps; s++) {
                sb.append(s > 0 ? "," : "").append(String.format(Locale.ROOT, "%.2f", levels[w][s]));
            }
            sb.append(']');
        }
        return sb.append("]}").toString();
    }

    /**
     * The windows every protocol's request carries, seeded, rounded to cents as the JSON body writes them, so that
     * REST and gRPC runs send the same numbers.
     */
    public static double[][] levels(int windows, int steps) {
        Random r = new Random(42);
        double[][] out = new double[windows][steps];
        for (int w = 0; w < windows; w++) {
            double level = 3000 + 3000 * r.nextDouble();
            for (int s = 0; s < steps; s++) {
                level *= 1 + 0.01 * r.nextGaussian();
                out[w][s] = Math.round(level * 100) / 100.0;
            }
        }
        return out;
    }

    public static double[] batchTotals(URI base, String model) {
        return ServerMetrics.batchTotals(base, model);
    }

    public static Map<String, Object> row(HttpLoad.Result r, int windows, double[] before, double[] after) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("concurrency", r.concurrency());
        m.put("windows_per_request", windows);
        m.put("requests_per_s", round(r.requestsPerSecond()));
        // Only a 2xx answer carries forecasts.
        m.put("forecasts_per_s", round(r.successesPerSecond() * windows));
        m.put("p50_ms", r.p50() / 1000.0);
        m.put("p90_ms", r.p90() / 1000.0);
        m.put("p99_ms", r.p99() / 1000.0);
        m.put("p999_ms", r.p999() / 1000.0);
        m.put("max_ms", r.max() / 1000.0);
        m.put("requests", r.requests());
        m.put("non_2xx", r.non2xx());
        m.put("socket_errors", r.errors());
        if (before != null && after != null && after[1] > before[1]) {
            m.put("mean_batch", round((after[0] - before[0]) / (after[1] - before[1])));
        }
        return m;
    }

    /**
     * One warning line per kind of failure in a run: "concurrency 16: 1961 answers HTTP 404 (first:
     * {"error": ...})", "concurrency 16: 12 answers gRPC NOT_FOUND (first: unknown model 'x')" or "concurrency 16: 3 socket errors ConnectException (first: Connection refused)".
     */
    public static List<String> warnings(HttpLoad.Result r) {
        List<String> lines = new ArrayList<>();
        for (HttpLoad.Problem p : r.problems()) {
            String example = p.example() == null ? "" : p.example().replaceAll("\\s+", " ").strip();
            lines.add("concurrency " + r.concurrency() + ": " + p.count()
                    + (p.what().startsWith("HTTP ") || p.what().startsWith("gRPC ")
                            ? (p.count() == 1 ? " answer " : " answers ") + p.what()
                            : (p.count() == 1 ? " socket error " : " socket errors ") + p.what())
                    + (example.isEmpty() ? "" : " (first: " + example + ")"));
        }
        return lines;
    }

    public static Map<String, Object> row(EngineBench.Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("batch", r.batch());
        m.put("threads", r.threads());
        m.put("forecasts_per_s", round(r.forecastsPerSecond()));
        m.put("us_per_run", round(r.microsPerRun()));
        return m;
    }

    public static String table(List<Map<String, Object>> rows) {
        LinkedHashSet<String> keys = new LinkedHashSet<>();
        rows.forEach(r -> keys.addAll(r.keySet()));
        StringBuilder sb = new StringBuilder();
        for (String k : keys) {
            sb.append(String.format(Locale.ROOT, "%-20s", k));
        }
        sb.append('\n');
        for (Map<String, Object> r : rows) {
            for (String k : keys) {
                sb.append(String.format(Locale.ROOT, "%-20s", r.containsKey(k) ? format(r.get(k)) : "-"));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    private static String format(Object v) {
        if (v instanceof Double d) {
            return d >= 100 ? String.format(Locale.ROOT, "%.0f", d) : String.format(Locale.ROOT, "%.3f", d);
        }
        return String.valueOf(v);
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
