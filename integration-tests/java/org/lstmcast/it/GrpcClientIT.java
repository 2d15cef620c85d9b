package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged server's gRPC endpoint driven by a client written elsewhere: Debian's python3-grpcio running
 * {@code integration-tests/python/grpc_client.py}, which builds its messages from the repository's .proto at run time
 * and checks every RPC, the error codes and the health service, and compares the forecasts with the REST route's.
 * CI installs python3-grpcio and python3-grpc-tools (.ci/run); elsewhere the test is skipped without them.
 */
class GrpcClientIT {
    static final Path SCRIPT = Program.ROOT.resolve("integration-tests/python/grpc_client.py").toAbsolutePath();
    /** Small, so that the oversized message the client sends is cheap to build. */
    static final int MAX_MESSAGE = 1 << 20;

    @TempDir
    Path work;

    /** Every check the client makes without an API key; a check dropped from the script fails here. */
    static final Set<String> CHECKS = Set.of("ServerLive", "ServerReady", "ServerMetadata", "ModelReady known",
            "ModelReady unknown", "ModelMetadata", "ModelInfer typed fp32_contents", "ModelInfer raw_input_contents",
            "ModelInfer typed, 3 windows", "ModelInfer raw, 3 windows", "ModelInfer id echo", "ModelInfer outputs filter",
            "unknown model -> NOT_FOUND", "unknown model metadata -> NOT_FOUND", "zero dimension -> INVALID_ARGUMENT",
            "raw bytes not matching the shape -> INVALID_ARGUMENT",
            "raw bytes not a whole number of FP32 -> INVALID_ARGUMENT",
            "typed contents not matching the shape -> INVALID_ARGUMENT",
            "datatype without contents field -> INVALID_ARGUMENT", "message over the limit -> RESOURCE_EXHAUSTED",
            "health Check overall", "health Check inference service", "health Check unknown service -> NOT_FOUND");
    static final Set<String> AUTH_CHECKS = Set.of("no API key -> UNAUTHENTICATED", "wrong API key -> UNAUTHENTICATED",
            "no API key, metadata -> UNAUTHENTICATED", "no API key, ServerLive open", "no API key, health Check open");

    @Test
    void debiansGrpcClientGetsEveryAnswerRight() throws Exception {
        requireGrpcPython();
        Path repo = repository();
        try (ServerProcess server = ServerProcess.start(work, repo, "--grpc-max-message-bytes", Integer.toString(MAX_MESSAGE))) {
            JsonNode summary = runClient(server);
            assertEquals(CHECKS, checkNames(summary), "the client ran every check");
            assertForecast(summary);
            assertEquals(0, server.terminate(), "SIGTERM with gRPC listening still exits 0");
            assertTrue(server.log.stream().noneMatch(l -> l.contains("internal error")), server.logTail(40));
        }
    }

    @Test
    void withAnApiKeyCallsNeedItAndHealthStaysOpen() throws Exception {
        requireGrpcPython();
        Path repo = repository();
        try (ServerProcess server = ServerProcess.start(work, repo, "--grpc-max-message-bytes", Integer.toString(MAX_MESSAGE),
                "--api-key", "it-secret")) {
            JsonNode summary = runClient(server, "--api-key", "it-secret");
            Set<String> expected = new TreeSet<>(CHECKS);
            expected.addAll(AUTH_CHECKS);
            assertEquals(expected, checkNames(summary), "with a key, the client adds the authentication checks");
            assertForecast(summary);
        }
    }

    private Path repository() throws IOException {
        Path repo = Files.createDirectories(work.resolve("repo"));
        // One LSTM with one output, "forecast", as the client's metadata check expects (the earlier bundled DAX).
        ServerProcess.copy(Program.ROOT.resolve("src/test/resources/fixtures/dax_lstm.onnx").toAbsolutePath(),
                repo.resolve("dax/1/model.onnx"));
        return repo;
    }

    /** Runs the client; passes only when it exits 0 and its summary lists no failed check. */
    private static JsonNode runClient(ServerProcess server, String... extra) throws Exception {
        assertTrue(server.grpcPort > 0, "the server listens for gRPC: " + server.logTail(5));
        List<String> cmd = new ArrayList<>(List.of(PYTHON, SCRIPT.toString(), "--grpc", "127.0.0.1:" + server.grpcPort,
                "--rest", server.base, "--model", "dax", "--max-message-bytes", Integer.toString(MAX_MESSAGE)));
        cmd.addAll(List.of(extra));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the client finished");
        System.out.println("grpc_client.py " + String.join(" ", extra) + ":\n" + out);
        JsonNode summary = new ObjectMapper().readTree(out);
        assertEquals("[]", summary.path("failed").toString(), "failed checks; the summary above says why");
        assertEquals(0, p.exitValue(), out);
        for (JsonNode c : summary.path("checks")) {
            assertTrue(c.path("ok").asBoolean(), c.toString());
        }
        return summary;
    }

    private static Set<String> checkNames(JsonNode summary) {
        Set<String> names = new TreeSet<>();
        summary.path("checks").forEach(c -> names.add(c.path("name").asText()));
        assertEquals(summary.path("checks").size(), names.size(), "check names are unique");
        assertEquals(names.size(), summary.path("passed").asInt());
        return names;
    }

    /** The gRPC forecast is the REST route's for the same window, five DAX levels near the window's last close. */
    private static void assertForecast(JsonNode summary) {
        JsonNode got = summary.path("forecast");
        JsonNode want = summary.path("expected");
        assertEquals(5, got.size(), summary.toString());
        assertEquals(5, want.size(), summary.toString());
        for (int i = 0; i < 5; i++) {
            double g = got.get(i).asDouble();
            double w = want.get(i).asDouble();
            assertEquals(w, g, Math.abs(w) * 1e-6, "step " + (i + 1));
            // The README's window ends at 5473.72: a forecast in scaled units (or of another model) would be far off.
            assertTrue(g > 4500 && g < 6500, "original units: " + g);
        }
        assertTrue(summary.path("max_relative_error").asDouble() <= 1e-6, summary.toString());
    }

    static final String PYTHON = "/usr/bin/python3";

    /** Debian's packages install for the system Python; CI must have them, anywhere else the test is skipped. */
    private static void requireGrpcPython() throws InterruptedException {
        boolean available;
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import grpc, grpc_tools.protoc, google.protobuf")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            available = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            available = false;
        }
        assumeTrue(available || System.getenv("CI") != null,
                "no /usr/bin/python3 with grpc (apt-get install python3-grpcio python3-grpc-tools)");
        assertTrue(available, "CI must have python3-grpcio and python3-grpc-tools installed (.ci/run installs them)");
    }
}
