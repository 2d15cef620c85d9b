package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded corpus of hostile requests against every endpoint of the packaged server. Pass: no 5xx, no hang, and the
 * server still alive and answering the same forecasts afterwards. Set {@code -Dlstmcast.hostile.seed=N} to replay.
 */
class HostileIT {
    static final int REQUESTS = 10_000;

    @TempDir
    Path work;

    record Attack(String method, String path, String contentType, byte[] body, String what) {
    }

    @Test
    void tenThousandHostileRequestsLeaveTheServerStandingAndCorrect() throws Exception {
        long seed = Long.getLong("lstmcast.hostile.seed", System.nanoTime());
        System.out.println("hostile corpus seed: " + seed + " (replay with -Dlstmcast.hostile.seed=" + seed + ")");
        Path repo = Files.createDirectories(work.resolve("repo"));
        ServerProcess.copy(FaultsIT.bundled("dax"), repo.resolve("dax/1/model.onnx"));
        ServerProcess.copy(FaultsIT.bundled("co2"), repo.resolve("co2/1/model.onnx"));
        // A heap of 256 MB: the RSS check at the end must tell a leak from a heap growing to its limit, and with 512 MB
        // the heap alone may grow by more than the 400 MB the check allows.
        // REST alone: the gRPC port has a hostile corpus of its own (GrpcHostileIT), and its Netty buffers would share
        // this small heap's direct-memory budget with Jetty's.
        try (ServerProcess server = ServerProcess.start("256m", work, repo, "--max-body-bytes", "2000000",
                "--grpc-port", "0")) {
            String good = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "4321.5")) + "]], \"horizon\": 8}";
            String before = server.post("/v1/models/dax/forecast", good).body();
            long rssBefore = server.rssBytes();

            Random random = new Random(seed);
            List<Attack> corpus = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                corpus.add(attack(random));
            }
            Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
            List<String> serverErrors = Collections.synchronizedList(new ArrayList<>());
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int offset = t;
                done.add(pool.submit(() -> {
                    for (int i = offset; i < corpus.size(); i += 8) {
                        Attack a = corpus.get(i);
                        int status = send(server, a);
                        statuses.computeIfAbsent(status, s -> new AtomicLong()).incrementAndGet();
                        if (status >= 500 || status == -2) {
                            serverErrors.add(status + " for " + a.what() + " " + a.method() + " " + a.path()
                                    + (status == 599 ? " (" + LAST_DEFECT.get() + ")" : ""));
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
            // Raw sockets: a request cut off halfway and garbage instead of HTTP.
            for (String raw : List.of("POST /v1/models/dax/forecast HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"inputs\"",
                    "\u0000\u0001GARBAGE\r\n\r\n", "GET /" + "a".repeat(100_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")) {
                URI u = URI.create(server.base);
                try (Socket s = new Socket(u.getHost(), u.getPort())) {
                    s.setSoTimeout(2000);
                    s.getOutputStream().write(raw.getBytes(StandardCharsets.ISO_8859_1));
                    s.getOutputStream().flush();
                } catch (IOException e) {
                    // refusing garbage is fine
                }
            }
            System.out.printf("hostile corpus: %d requests, statuses %s, sent again on a new connection %d, RSS %d -> %d MB%n",
                    REQUESTS, statuses, RESENT.get(), rssBefore >> 20, server.rssBytes() >> 20);
            assertEquals(List.of(), serverErrors.subList(0, Math.min(20, serverErrors.size())),
                    "no 5xx and no hang; the server's log ends:\n" + server.logTail(40));
            assertEquals(200, server.status("/v2/health/live"));
            // A client that leaves halfway through its body (the first raw request above) is no server fault: nothing
            // in the log says a request failed, as a 500 would.
            Thread.sleep(500);
            String log = server.logTail(Integer.MAX_VALUE);
            assertTrue(!log.contains("request failed"), log.substring(Math.max(0, log.length() - 4000)));
            assertEquals(before, server.post("/v1/models/dax/forecast", good).body(), "the same forecast as before the attack");
            assertTrue(server.rssBytes() < rssBefore + (400L << 20), "memory did not run away");
            assertEquals(0, server.terminate());
        }
    }

    private static final ThreadLocal<String> LAST_DEFECT = new ThreadLocal<>();

    /** Answers that broke the error contract once and kept it when the same request came again on a new connection. */
    static final AtomicLong RESENT = new AtomicLong();

    /**
     * -1: the server refused the connection or closed it (allowed for garbage); -2: no answer in time (a hang).
     * An error without the JSON body is sent again once, on a connection of its own: a request sent into a keep-alive
     * connection as the other end closes it can be cut short and refused by the HTTP parser (twice in some 20 runs
     * of this test, never with the same seed again), which is the transport's doing, not an answer the server chose.
     * A defect is an answer that breaks the contract on its own connection too.
     */
    static int send(ServerProcess server, Attack a) {
        int status = send(server, a, ServerProcess.HTTP);
        if (status == 599) {
            String first = LAST_DEFECT.get();
            status = send(server, a, HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build());
            if (status != 599) {
                RESENT.incrementAndGet();
                System.out.println("answered on a connection of its own after " + first + ": " + a.what() + " "
                        + a.method() + " " + a.path() + " -> " + status);
            }
        }
        return status;
    }

    private static int send(ServerProcess server, Attack a, HttpClient client) {
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.base + a.path())).timeout(Duration.ofSeconds(20))
                    .method(a.method(), a.body() == null ? HttpRequest.BodyPublishers.noBody()
                            : HttpRequest.BodyPublishers.ofByteArray(a.body()));
            if (a.contentType() != null) {
                b.header("Content-Type", a.contentType());
            }
            HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
            // HEAD answers carry no body by definition. A NUL byte in the path is refused by Jetty's HTTP parser
            // with a bare 400 before any handler runs: a protocol-level refusal, still a 4xx. Every other error
            // carries {"error": ...}.
            boolean parserRefusal = r.statusCode() == 400 && a.path().contains("%00") && r.body().isEmpty();
            if (r.statusCode() >= 400 && !a.method().equals("HEAD") && !parserRefusal && !r.body().startsWith("{\"error\"")) {
                // An error without the JSON error body is a defect too; what came instead is kept for the report.
                LAST_DEFECT.set(r.statusCode() + " " + r.body().substring(0, Math.min(200, r.body().length())));
                return 599;
            }
            return r.statusCode();
        } catch (HttpTimeoutException e) {
            return -2;
        } catch (IllegalArgumentException e) {
            return -3; // the client itself refuses to send it (a path that is not a URI)
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    static final String[] NAMES = {"dax", "co2", "DAX", "nope", "..", "../..", "%2e%2e", "..%2F..%2Fetc%2Fpasswd", "dax%00",
        "%C3%A9t%C3%A9", "%F0%9F%92%A5", "a".repeat(300), "dax.onnx", "-", "_", "%20", "dax%2Fversions"};
    static final String[] VERSIONS = {"1", "2", "0", "-1", "01", "99999999999999999999", "..", "1.5", "%2e%2e", "x", "%00"};
    static final String[] METHODS = {"GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"};
    static final String[] TYPES = {"application/json", "text/plain", "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x", "application/octet-stream", null};

    static Attack attack(Random r) {
        String name = NAMES[r.nextInt(NAMES.length)];
        String version = VERSIONS[r.nextInt(VERSIONS.length)];
        String path = switch (r.nextInt(12)) {
            case 0 -> "/v1/models/" + name + "/forecast";
            case 1 -> "/v1/models/" + name + "/versions/" + version + "/forecast";
            case 2 -> "/v2/models/" + name + "/infer";
            case 3 -> "/v2/models/" + name + "/versions/" + version + "/infer";
            case 4 -> "/v2/models/" + name;
            case 5 -> "/v2/models/" + name + "/versions/" + version + "/ready";
            case 6 -> "/v1/models";
            case 7 -> "/metrics";
            case 8 -> "/v2/health/" + (r.nextBoolean() ? "live" : "ready");
            case 9 -> "/v2";
            case 10 -> "/v1/models/dax/forecast";
            default -> "/v2/models/dax/infer";
        };
        String method = r.nextInt(4) == 0 ? METHODS[r.nextInt(METHODS.length)] : (path.endsWith("forecast") || path.endsWith("infer") ? "POST" : "GET");
        String type = TYPES[r.nextInt(TYPES.length)];
        int kind = r.nextInt(16);
        String what;
        byte[] body;
        switch (kind) {
            case 0 -> {
                what = "random bytes";
                body = new byte[r.nextInt(4096)];
                r.nextBytes(body);
            }
            case 1 -> {
                what = "truncated JSON";
                String full = window(r, 30, 1);
                body = ("{\"inputs\": [" + full + "], \"horizon\": 3}").substring(0, 1 + r.nextInt(full.length())).getBytes();
            }
            case 2 -> {
                what = "deep nesting";
                int depth = 50 + r.nextInt(20_000);
                body = ("{\"inputs\": " + "[".repeat(depth) + "1" + "]".repeat(depth) + "}").getBytes();
            }
            case 3 -> {
                what = "huge array";
                body = ("{\"inputs\": [[" + "1.5,".repeat(100_000 + r.nextInt(200_000)) + "1]]}").getBytes();
            }
            case 4 -> {
                what = "wrong types";
                String[] values = {"\"x\"", "true", "null", "{}", "[]", "\"1\""};
                body = ("{\"inputs\": [[" + String.join(",", Collections.nCopies(30, values[r.nextInt(values.length)]))
                        + "]], \"horizon\": " + values[r.nextInt(values.length)] + "}").getBytes();
            }
            case 5 -> {
                what = "NaN and Infinity";
                String[] bad = {"NaN", "Infinity", "-Infinity", "1e999", "-1e999", "0x10", "1e-999999"};
                body = ("{\"inputs\": [[" + String.join(",", Collections.nCopies(29, "1")) + "," + bad[r.nextInt(bad.length)]
                        + "]]}").getBytes();
            }
            case 6 -> {
                what = "odd horizons";
                String[] h = {"0", "-1", "-99999999999", "99999999999999999999", "1e9", "2.5", "10001", "\"5\""};
                body = ("{\"inputs\": [" + window(r, 30, 1) + "], \"horizon\": " + h[r.nextInt(h.length)] + "}").getBytes();
            }
            case 7 -> {
                what = "empty windows";
                body = (r.nextBoolean() ? "{\"inputs\": [[]]}" : "{\"inputs\": [[], [1]]}").getBytes();
            }
            case 8 -> {
                what = "ragged windows";
                body = ("{\"inputs\": [" + window(r, 30, 1) + ", [[1, 2], 3, [4]]]}").getBytes();
            }
            case 9 -> {
                what = "oversized body";
                body = new byte[2_000_001 + r.nextInt(1_000_000)];
                Arrays.fill(body, (byte) '1');
            }
            case 10 -> {
                what = "infer with a bad tensor";
                String[] shapes = {"[1, 30, 1]", "[-1, 30, 1]", "[1]", "[]", "[99999999, 99999999, 99999999]", "[1, 30, 1, 1]", "\"x\""};
                String[] types = {"FP32", "FP64", "INT64", "BYTES", "BOOL", "nonsense", "fp32"};
                body = ("{\"id\": " + (r.nextBoolean() ? "\"a\"" : "[1]") + ", \"inputs\": [{\"name\": \""
                        + (r.nextBoolean() ? "input" : "x") + "\", \"shape\": " + shapes[r.nextInt(shapes.length)]
                        + ", \"datatype\": \"" + types[r.nextInt(types.length)] + "\", \"data\": " + window(r, 30, 1)
                        + "}], \"outputs\": " + (r.nextBoolean() ? "[{\"name\": \"nope\"}]" : "\"x\"") + "}").getBytes();
            }
            case 11 -> {
                what = "unicode and control characters";
                body = ("{\"inputs\": [[\"\u202e\u0000\uD83D\uDCA5\"]], \"h\u00e9\": \"\\ud800\"}").getBytes(StandardCharsets.UTF_8);
            }
            case 12 -> {
                what = "many windows";
                body = ("{\"inputs\": [" + String.join(",", Collections.nCopies(4097, "[1]")) + "]}").getBytes();
            }
            case 13 -> {
                what = "empty body";
                body = new byte[0];
            }
            case 14 -> {
                what = "valid";
                body = ("{\"inputs\": [" + window(r, 30 + r.nextInt(50), 1) + "], \"horizon\": " + (1 + r.nextInt(40)) + "}").getBytes();
            }
            default -> {
                what = "huge numbers";
                body = ("{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "3.4e38")) + "]], \"horizon\": 50}").getBytes();
            }
        }
        if (method.equals("GET") || method.equals("HEAD") || method.equals("OPTIONS")) {
            body = null;
        }
        return new Attack(method, path, type, body, what);
    }

    static String window(Random r, int steps, int features) {
        StringBuilder sb = new StringBuilder("[");
        for (int s = 0; s < steps; s++) {
            sb.append(s > 0 ? "," : "").append(String.format(Locale.ROOT, "%.3f", 1000 + 100 * r.nextGaussian()));
        }
        return sb.append(']').toString();
    }
}
