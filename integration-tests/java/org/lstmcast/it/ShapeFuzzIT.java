package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A seeded fuzzer of tensor shapes against every kind of model the server takes: ranks 0 to 4, each dimension drawn
 * from {0, 1, 2, lookback-1, lookback, large, -1} and the model's feature count (one shape in three is a valid one
 * with at most one dimension redrawn, so the models run too), sent raw through the Open Inference Protocol (shape plus
 * flat or nested data, matching it or not) and realised as nested windows through the forecast API. Pass: every answer
 * a 200 or a 4xx with a clean JSON error, the process alive after every request (a crash is pinned on its request),
 * and the same forecast before and after. Requests go one at a time. Replay a run with
 * {@code -Dlstmcast.shapefuzz.seed=N} (and {@code -Dlstmcast.shapefuzz.requests=N}); the corpus does not depend on
 * the answers.
 */
class ShapeFuzzIT {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int REQUESTS = Integer.getInteger("lstmcast.shapefuzz.requests", 4000);
    /** Above this many elements a tensor's data is not sent in full: a few numbers go with the huge shape. */
    static final long MAX_ELEMENTS = 200_000;
    /** "Large" dimensions: 1000 and 100,000 fit under the body limit beside small ones; 2^31-1 and 2^33 never do. */
    static final long[] LARGE = {1000, 100_000, Integer.MAX_VALUE, 1L << 33};
    static final String[] MODELS = {"co2", "dax", "helper_dense", "helper_time_major", "helper_two_outputs",
        "torch_lstm_2layer_multivariate", "torch_lstm_univariate"};
    /** Fixed number strings keep bodies of 200,000 elements cheap to build. */
    static final String[] VALUES = {"0.5", "1", "-0.25", "1.75", "0", "2.5", "0.125", "-1"};
    /** What an error message must never carry: Java stack frames and ONNX Runtime's source locations. */
    static final String[] LEAKS = {"at org.", "Exception:\n", ".java:", "onnxruntime/core", ".cc:"};
    static final String FIXED = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "5123.25")) + "]], \"horizon\": 5}";

    @TempDir
    Path work;

    /** A served model as GET /v1/models describes it; lookback and horizon fall back to 30 and 5 when unknown. */
    record Model(String name, String input, long[] shape, int lookback, int horizon, int features) {
    }

    /** One request; a 200 answer to a forecast must hold {@code windows} forecasts of {@code horizon} numbers. */
    record Request(String path, String route, String what, String body, int windows, int horizon) {
        @Override
        public String toString() {
            return "POST " + path + " [" + what + "] body of " + body.length() + " chars: " + abbreviate(body, 300);
        }
    }

    @Test
    void fuzzedShapesAreAnsweredWithoutCrashOrServerError() throws Exception {
        long seed = Long.getLong("lstmcast.shapefuzz.seed", System.nanoTime());
        System.out.println("shape fuzz seed: " + seed + " (replay with -Dlstmcast.shapefuzz.seed=" + seed + ")");
        try (ServerProcess server = start(work, repository(work, MODELS))) {
            List<Model> models = models(server);
            HttpResponse<String> fixed = server.post("/v1/models/dax/forecast", FIXED);
            assertEquals(200, fixed.statusCode(), fixed.body());
            JsonNode before = JSON.readTree(fixed.body()).path("forecasts");
            assertEquals(5, before.path(0).size(), fixed.body());

            Random random = new Random(seed);
            Map<Integer, Long> byStatus = new TreeMap<>();
            Map<String, Map<Integer, Long>> byRoute = new TreeMap<>();
            List<String> failures = new ArrayList<>();
            Request previous = null;
            for (int i = 1; i <= REQUESTS; i++) { // numbered from 1, as the counts are
                Request q = request(random, models.get(random.nextInt(models.size())));
                int status;
                String body;
                try {
                    HttpResponse<String> r = server.post(q.path(), q.body());
                    status = r.statusCode();
                    body = r.body();
                } catch (HttpTimeoutException e) {
                    status = -2;
                    body = "no answer within 30 s";
                } catch (IOException e) {
                    status = -1;
                    body = "the connection failed: " + e;
                }
                byStatus.merge(status, 1L, Long::sum);
                byRoute.computeIfAbsent(q.route(), k -> new TreeMap<>()).merge(status, 1L, Long::sum);
                // Checked after every request, so a crash is pinned on the request that caused it (or, should the
                // process die after answering, on the one before, printed beside it).
                if (!server.isAlive()) {
                    boolean exited = server.process.waitFor(5, TimeUnit.SECONDS);
                    report(i, byStatus, byRoute);
                    fail(String.format("seed %d: the server %s after request #%d%n  %s%n  (the request before it: %s)%n"
                            + "%d bad answers before it%s%nserver log:%n%s", seed,
                            exited ? "died with exit code " + server.process.exitValue() : "stopped answering /v2/health/live",
                            i, q, previous, failures.size(), failures.isEmpty() ? "" : ", the first: " + failures.get(0),
                            server.logTail(12)));
                }
                String wrong = status < 0 ? body : verdict(q, status, body);
                if (wrong != null) {
                    failures.add("#" + i + " " + wrong + "\n    for " + q);
                    System.out.println("shape fuzz: bad answer #" + i + ": " + wrong + "\n    for " + q);
                }
                previous = q;
            }
            report(REQUESTS, byStatus, byRoute);
            HttpResponse<String> after = server.post("/v1/models/dax/forecast", FIXED);
            assertEquals(200, after.statusCode(), after.body());
            assertEquals(before, JSON.readTree(after.body()).path("forecasts"), "the same forecast before and after");
            assertTrue(byStatus.getOrDefault(200, 0L) > REQUESTS / 50, "enough valid requests to exercise the models: " + byStatus);
            assertTrue(failures.isEmpty(), "seed " + seed + ": " + failures.size() + " bad answers, the first "
                    + Math.min(20, failures.size()) + ":\n" + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
            assertEquals(0, server.terminate());
        }
    }

    /** An expectation about one answer: null when met, else what is wrong. */
    interface Expect {
        String problem(int status, String body) throws IOException;
    }

    record Case(String what, String path, String body, Expect expect) {
    }

    /** The shapes that crashed the server, answered 500 or were not served, each checked on its own. */
    @Test
    void knownShapeRegressions() throws Exception {
        Path repo = repository(work, "dax", "helper_time_major");
        JsonNode timeMajor = JSON.readTree(FaultsIT.fixture("helper_time_major.expected.json").toFile());
        String thirty = String.join(",", Collections.nCopies(30, "0.5"));
        Expect refused = (status, body) -> status / 100 == 4 ? refusalProblem(status, body) : "expected a 4xx, got " + status + ": " + body;
        List<Case> cases = List.of(
                // An empty batch matches its empty data: either an empty answer or a clean refusal will do.
                new Case("infer dax shape [0, 30, 1], data []", "/v2/models/dax/infer", tensor("input", "[0, 30, 1]", "[]"),
                        (status, body) -> {
                            if (status != 200) {
                                return refused.problem(status, body);
                            }
                            JsonNode out = JSON.readTree(body).path("outputs").path(0);
                            return out.path("shape").path(0).asInt(-1) == 0 && out.path("data").isArray() && out.path("data").isEmpty()
                                    ? null : "a 200 for an empty batch must hold an empty batch: " + body;
                        }),
                new Case("infer dax shape [1, 0, 1], data []", "/v2/models/dax/infer", tensor("input", "[1, 0, 1]", "[]"), refused),
                new Case("infer dax shape [-1, 30, 1], 30 numbers", "/v2/models/dax/infer",
                        tensor("input", "[-1, 30, 1]", "[" + thirty + "]"), refused),
                new Case("forecast dax of one empty window", "/v1/models/dax/forecast", "{\"inputs\": [[]]}", refused),
                new Case("forecast dax of no windows", "/v1/models/dax/forecast", "{\"inputs\": []}", refused),
                // Dims named [seq, batch, features] and no forecast.json: the server must feed the windows time-major.
                new Case("forecast helper_time_major of 3 windows of 12 steps", "/v1/models/helper_time_major/forecast",
                        "{\"inputs\": " + timeMajor.path("windows") + "}", (status, body) -> status != 200
                                ? "expected 200, got " + status + ": " + body
                                : close(JSON.readTree(body).path("forecasts"), timeMajor.path("expected"), 1e-4)));
        List<String> failures = new ArrayList<>();
        ServerProcess server = start(work, repo);
        try {
            for (Case c : cases) {
                HttpResponse<String> r = null;
                try {
                    r = server.post(c.path(), c.body());
                } catch (IOException e) {
                    // no answer: the liveness check below says why
                }
                if (!server.isAlive()) {
                    boolean exited = server.process.waitFor(5, TimeUnit.SECONDS);
                    failures.add(c.what() + ": the server " + (exited ? "died with exit code " + server.process.exitValue()
                            : "stopped answering /v2/health/live") + "\n" + server.logTail(5));
                    server.close();
                    server = start(work, repo); // the cases after it still get their say
                    continue;
                }
                String problem = r == null ? "no answer" : c.expect().problem(r.statusCode(), r.body());
                if (problem != null) {
                    failures.add(c.what() + ": " + problem);
                }
            }
            System.out.println("shape regressions: " + (cases.size() - failures.size()) + " of " + cases.size() + " pass");
            assertTrue(failures.isEmpty(), failures.size() + " shape regressions:\n" + String.join("\n", failures));
            assertEquals(0, server.terminate());
        } finally {
            server.close();
        }
    }

    static Path repository(Path work, String... names) throws IOException {
        Path repo = Files.createDirectories(work.resolve("repo"));
        for (String n : names) {
            Path from = n.equals("dax") || n.equals("co2") ? FaultsIT.bundled(n) : FaultsIT.fixture(n + ".onnx");
            ServerProcess.copy(from, repo.resolve(n + "/1/model.onnx"));
        }
        return repo;
    }

    static ServerProcess start(Path work, Path repo) throws Exception {
        // A body limit above the largest body sent (about 2 MB), so no 413 stands in for a shape check; and ready
        // first, so no 503 for a model still loading.
        ServerProcess s = ServerProcess.start(work, repo, "--max-body-bytes", "4000000");
        ServerProcess.awaitTrue(() -> s.status("/v2/health/ready") == 200, "the repository is loaded");
        return s;
    }

    static List<Model> models(ServerProcess server) throws Exception {
        List<Model> out = new ArrayList<>();
        for (JsonNode m : JSON.readTree(server.get("/v1/models").body()).path("models")) {
            assertEquals("READY", m.path("state").asText(), m.toString());
            JsonNode in = m.path("inputs").path(0);
            long[] shape = new long[in.path("shape").size()];
            Arrays.setAll(shape, i -> in.path("shape").get(i).asLong());
            // The lookback: the forecast settings', else a fixed sequence dimension, else 30.
            int lookback = m.path("forecast").path("lookback").asInt(0);
            lookback = lookback > 0 ? lookback : shape.length == 3 && shape[1] > 0 ? (int) shape[1] : 30;
            int features = shape.length > 0 && shape[shape.length - 1] > 0 ? (int) shape[shape.length - 1] : 1;
            out.add(new Model(m.path("name").asText(), in.path("name").asText(), shape, lookback,
                    m.path("forecast").path("horizon").asInt(5), features));
        }
        assertEquals(List.of(MODELS), out.stream().map(Model::name).sorted().toList(), "every model is served");
        out.sort(Comparator.comparing(Model::name)); // the corpus must not depend on the listing's order
        return out;
    }

    static Request request(Random r, Model m) {
        boolean infer = r.nextBoolean();
        long[] shape = shape(r, m, infer);
        return infer ? infer(r, m, shape) : forecast(r, m, shape);
    }

    static long dim(Random r, Model m) {
        return switch (r.nextInt(8)) {
            case 0 -> 0;
            case 1 -> 1;
            case 2 -> 2;
            case 3 -> m.lookback() - 1;
            case 4 -> m.lookback();
            case 5 -> LARGE[r.nextInt(LARGE.length)];
            case 6 -> -1;
            default -> m.features(); // without it no multivariate request would ever be valid
        };
    }

    /** A shape of rank 0 to 4 drawn dim by dim, or (one time in three) a valid one with at most one dim redrawn. */
    static long[] shape(Random r, Model m, boolean infer) {
        if (r.nextInt(3) == 0) {
            long[] s = infer ? m.shape().clone() : m.features() == 1 && r.nextBoolean()
                    ? new long[] {1 + r.nextInt(2), m.lookback()} : new long[] {1 + r.nextInt(2), m.lookback(), m.features()};
            for (int i = 0; i < s.length; i++) {
                s[i] = s[i] >= 0 ? s[i] : r.nextBoolean() ? 1 + r.nextInt(2) : m.lookback();
            }
            if (r.nextBoolean()) {
                s[r.nextInt(s.length)] = dim(r, m);
            }
            return s;
        }
        long[] s = new long[r.nextInt(5)];
        for (int i = 0; i < s.length; i++) {
            s[i] = dim(r, m);
        }
        return s;
    }

    /** The elements a shape holds: -1 with a negative dimension, Long.MAX_VALUE past 2^62. */
    static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                return -1;
            }
            n = d == 0 ? 0 : n > (1L << 62) / d ? Long.MAX_VALUE : n * d;
        }
        return n;
    }

    /** The most arrays and numbers writing the shape out as nested arrays takes: a 0 hides no dimension before it. */
    static long span(long[] shape) {
        long[] s = shape.clone();
        Arrays.setAll(s, i -> Math.max(1, s[i]));
        return elements(s);
    }

    static Request infer(Random r, Model m, long[] shape) {
        long n = elements(shape);
        long length;
        if (n < 0 || n > MAX_ELEMENTS) {
            length = r.nextInt(9); // a huge shape with a few numbers: refused without allocating what the shape says
        } else {
            length = switch (r.nextInt(5)) {
                case 0 -> n == 0 ? 0 : r.nextInt((int) n); // shorter
                case 1 -> n + 1 + r.nextInt(3); // longer
                case 2 -> 0; // empty
                default -> n;
            };
        }
        boolean nested = length == n && span(shape) <= MAX_ELEMENTS && r.nextInt(3) == 0;
        StringBuilder data = new StringBuilder();
        if (nested) {
            nested(r, data, shape, 0, new int[1]);
        } else {
            nested(r, data, new long[] {length}, 0, new int[1]);
        }
        String what = "shape " + Arrays.toString(shape) + ", " + (nested ? "nested" : "flat") + " data of " + length;
        return new Request("/v2/models/" + m.name() + "/infer", m.name() + " v2 infer", what,
                tensor(m.input(), Arrays.toString(shape), data.toString()), -1, -1);
    }

    static Request forecast(Random r, Model m, long[] shape) {
        long[] s = shape.clone();
        // Arrays have no negative lengths: -1 becomes an empty level; levels past the element cap shrink to 2
        // (an empty level after a huge one still has the huge one written out).
        for (int i = 0; i < s.length; i++) {
            s[i] = Math.max(0, s[i]);
        }
        for (int i = 0; i < s.length && span(s) > MAX_ELEMENTS; i++) {
            s[i] = Math.min(s[i], 2);
        }
        int[] horizons = {-2, 0, 1, m.horizon(), m.horizon() + 1, 10_000, -1}; // -2: no horizon field
        int horizon = horizons[r.nextInt(horizons.length)];
        // A horizon of 10,000 rolls the model forward thousands of runs, each over the whole window where the model
        // has no lookback: 0.5 s for one window of dax, 15 s for 1,000 windows, past the 30 s request timeout for one
        // of 100,000 steps. That is a heavy request, not a shape: keep such requests to 2 windows of the lookback.
        for (int i = 0; horizon == 10_000 && i < s.length; i++) {
            s[i] = Math.min(s[i], i == 0 ? 2 : Math.max(2, m.lookback()));
        }
        // One window (or step) in four is one number longer or shorter than its siblings.
        int ragged = s.length >= 2 && r.nextInt(4) == 0 ? (r.nextBoolean() ? 1 : -1) : 0;
        StringBuilder body = new StringBuilder("{\"inputs\": ");
        nested(r, body, s, 0, new int[] {ragged});
        body.append(horizon == -2 ? "}" : ", \"horizon\": " + horizon + "}");
        String what = "windows " + Arrays.toString(s) + (ragged != 0 ? " ragged " + ragged : "") + ", horizon "
                + (horizon == -2 ? "absent" : horizon);
        return new Request("/v1/models/" + m.name() + "/forecast", m.name() + " v1 forecast", what, body.toString(),
                s.length > 0 ? (int) s[0] : -1, horizon == -2 ? m.horizon() : horizon);
    }

    /** The shape as nested arrays of numbers (rank 0: one number); the first innermost array gets ragged[0] more. */
    static void nested(Random r, StringBuilder sb, long[] shape, int depth, int[] ragged) {
        if (depth == shape.length) {
            sb.append(VALUES[r.nextInt(VALUES.length)]);
            return;
        }
        long length = shape[depth];
        if (depth == shape.length - 1) {
            length += ragged[0];
            ragged[0] = 0;
        }
        sb.append('[');
        for (long i = 0; i < length; i++) {
            sb.append(i > 0 ? "," : "");
            nested(r, sb, shape, depth + 1, ragged);
        }
        sb.append(']');
    }

    static String tensor(String name, String shape, String data) {
        return "{\"inputs\": [{\"name\": \"" + name + "\", \"shape\": " + shape + ", \"datatype\": \"FP32\", \"data\": " + data + "}]}";
    }

    /** Null when the answer is acceptable, else what is wrong with it. */
    static String verdict(Request q, int status, String body) {
        if (status != 200) {
            // 404: every model here exists; 413: every body is under the server's limit; 5xx: the server's fault.
            return status / 100 != 4 || status == 404 || status == 413 ? "status " + status + ": " + abbreviate(body, 300)
                    : refusalProblem(status, body);
        }
        try {
            JsonNode answer = JSON.readTree(body);
            if (q.horizon() >= 0) {
                JsonNode forecasts = answer.path("forecasts");
                boolean ok = forecasts.size() == q.windows();
                for (JsonNode f : forecasts) {
                    ok &= f.size() == q.horizon();
                }
                return ok ? null : "200 without " + q.windows() + " forecasts of " + q.horizon() + ": " + abbreviate(body, 300);
            }
            // Each output's data must hold what its shape says.
            boolean ok = answer.path("outputs").size() > 0;
            for (JsonNode o : answer.path("outputs")) {
                long[] shape = new long[o.path("shape").size()];
                Arrays.setAll(shape, i -> o.path("shape").get(i).asLong());
                ok &= o.path("data").size() == elements(shape);
            }
            return ok ? null : "200 with outputs that do not match their shapes: " + abbreviate(body, 300);
        } catch (IOException e) {
            return "200 with a body that is not JSON: " + abbreviate(body, 300);
        }
    }

    /** Null for a JSON {"error": message} whose message is clean, else what is wrong. */
    static String refusalProblem(int status, String body) {
        try {
            JsonNode error = JSON.readTree(body).path("error");
            if (!error.isTextual() || error.asText().isBlank()) {
                return status + " without an error message: " + abbreviate(body, 300);
            }
            for (String leak : LEAKS) {
                if (error.asText().contains(leak)) {
                    return status + " whose message leaks '" + leak.strip() + "': " + abbreviate(body, 300);
                }
            }
            return null;
        } catch (IOException e) {
            return status + " with a body that is not JSON: " + abbreviate(body, 300);
        }
    }

    /** Null when every number is within {@code relative} of the expected one (1e-9 absolute near zero). */
    static String close(JsonNode actual, JsonNode expected, double relative) {
        boolean ok = actual.size() == expected.size();
        for (int i = 0; ok && i < expected.size(); i++) {
            ok = actual.get(i).size() == expected.get(i).size();
            for (int j = 0; ok && j < expected.get(i).size(); j++) {
                double a = actual.get(i).get(j).asDouble(), e = expected.get(i).get(j).asDouble();
                ok = Math.abs(a - e) <= relative * Math.abs(e) + 1e-9;
            }
        }
        return ok ? null : "forecasts " + actual + " differ from the expected " + expected;
    }

    static void report(int sent, Map<Integer, Long> byStatus, Map<String, Map<Integer, Long>> byRoute) {
        StringBuilder sb = new StringBuilder("shape fuzz: " + sent + " requests sent, by status " + byStatus
                + " (-1: connection failed, -2: no answer)\n");
        byRoute.forEach((route, statuses) -> sb.append(String.format("  %-46s %5d %s%n", route,
                statuses.values().stream().mapToLong(Long::longValue).sum(), statuses)));
        System.out.print(sb);
    }

    static String abbreviate(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max) + "... (" + s.length() + " chars)";
    }
}
