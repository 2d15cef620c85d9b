package org.lstmcast.serve.server;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

import org.lstmcast.serve.ModelRegistry;
import org.lstmcast.serve.ModelVersion;
import org.lstmcast.serve.ServeConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forecast requests to the server's own REST port over loopback, sent before it reports ready, so that the JVM has
 * compiled the request path (Jetty, JSON, the batcher, the model run, the answer) by the time clients arrive. Without
 * it a fresh server on two cores answers about half its steady rate five seconds after ready and reaches it after
 * about ten (docs/BENCHMARKS.md, "Cold start"). The models' own warm-up at load runs the sessions; this runs the rest.
 */
final class RequestPathWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(RequestPathWarmup.class);
    /** Enough requests in flight to form batches, as concurrent clients do, without crowding two cores. */
    private static final int CONNECTIONS = 16;

    private RequestPathWarmup() {
    }

    /**
     * Sends one-window forecast requests, round-robin over the univariate forecasters loaded, from
     * {@link #CONNECTIONS} threads for {@code duration}; returns how many were answered 200.
     */
    static long run(ServeConfig config, int port, ModelRegistry registry, Duration duration) {
        List<HttpRequest> requests = requests(config, port, registry);
        if (requests.isEmpty()) {
            return 0;
        }
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        AtomicLong answered = new AtomicLong();
        long until = System.nanoTime() + duration.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < CONNECTIONS; t++) {
            int first = t;
            Thread thread = new Thread(() -> {
                for (int i = first; System.nanoTime() < until; i++) {
                    try {
                        HttpResponse<Void> r = http.send(requests.get(i % requests.size()),
                                HttpResponse.BodyHandlers.discarding());
                        if (r.statusCode() == 200) {
                            answered.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    } catch (Exception e) {
                        // A refused or broken request warms nothing; the next one may.
                    }
                }
            }, "request-path-warmup-" + t);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        LOG.info("request-path warm-up: {} forecasts answered in {} s over loopback", answered.get(),
                String.format(Locale.ROOT, "%.1f", duration.toMillis() / 1000.0));
        return answered.get();
    }

    /** One request per loaded univariate forecaster: a window of its lookback (30 steps where it takes any length). */
    private static List<HttpRequest> requests(ServeConfig config, int port, ModelRegistry registry) {
        String host = switch (config.host()) {
            case "", "0.0.0.0" -> "127.0.0.1";
            case "::", "[::]" -> "[::1]";
            default -> config.host().contains(":") && !config.host().startsWith("[") ? "[" + config.host() + "]"
                    : config.host();
        };
        List<HttpRequest> out = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.statuses()) {
            ModelVersion v = s.loaded();
            int steps = v == null ? -1 : v.univariateWindowSteps();
            if (steps < 1) {
                continue;
            }
            StringBuilder body = new StringBuilder("{\"inputs\": [[");
            for (int i = 0; i < steps; i++) {
                // A gentle rise with a wave: values any forecaster takes, as a real window would be.
                body.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", 100 + 0.2 * i + Math.sin(i)));
            }
            body.append("]]}");
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + "/v1/models/"
                            + s.name() + "/versions/" + s.version() + "/forecast"))
                    .timeout(Duration.ofSeconds(10))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
            if (config.apiKey() != null && !config.apiKey().isEmpty()) {
                request.header("Authorization", "Bearer " + config.apiKey());
            }
            out.add(request.build());
        }
        return out;
    }
}
