package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.serve.InferenceServer;
import org.lstmcast.serve.ServeConfig;

/** {@code lstmcast bench} against the real server: failures are reported as failures, in its output and exit code. */
class BenchCommandTest {
    @TempDir
    static Path repo;
    static InferenceServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(repo.resolve("co2/1"));
        Files.copy(Path.of("models/co2/1/model.onnx"), repo.resolve("co2/1/model.onnx"), StandardCopyOption.REPLACE_EXISTING);
        server = new InferenceServer(new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 1024, 2, 0.5,
                ServeConfig.Limits.defaults(), null));
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static MainTest.Run bench(String url, String model) {
        return MainTest.run("bench", "--url", url, "--model", model, "--concurrency", "2", "--duration", "0.5",
                "--warmup", "0", "--json");
    }

    @Test
    void aWorkingServerExitsZeroWithoutWarnings() throws Exception {
        MainTest.Run r = bench(base, "co2");
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        JsonNode row = new ObjectMapper().readTree(r.out()).get(0);
        assertTrue(row.path("requests").asLong() > 0, r.out());
        assertEquals(0, row.path("non_2xx").asLong());
        assertEquals(row.path("requests_per_s").asDouble(), row.path("forecasts_per_s").asDouble(), 1e-9);
    }

    @Test
    void aWrongModelNameIsAFailureWithTheCountPerStatusAndExitOne() throws Exception {
        MainTest.Run r = bench(base, "no-such-model");
        assertEquals(1, r.code(), r.err());
        JsonNode row = new ObjectMapper().readTree(r.out()).get(0);
        long non2xx = row.path("non_2xx").asLong();
        assertTrue(non2xx > 0 && non2xx == row.path("requests").asLong(), r.out());
        assertEquals(0.0, row.path("forecasts_per_s").asDouble(), "a 404 carries no forecast");
        Matcher m = Pattern.compile("(?m)^lstmcast bench: warning: concurrency 2: (\\d+) answers HTTP 404 \\(first: (.*)\\)$")
                .matcher(r.err());
        assertTrue(m.find(), r.err());
        assertTrue(Long.parseLong(m.group(1)) >= non2xx, r.err());
        assertTrue(m.group(2).contains("no-such-model"), "the server's reason is shown: " + m.group(2));
        assertTrue(r.err().contains("lstmcast bench: error: 1 of 1 runs had failed requests"), r.err());
        assertFalse(r.err().contains("\tat "), r.err());
    }

    @Test
    void nothingListeningIsAFailureWithTheSocketErrorAndExitOne() throws Exception {
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            closed = s.getLocalPort();
        }
        MainTest.Run r = bench("http://127.0.0.1:" + closed, "co2");
        assertEquals(1, r.code(), r.err());
        assertTrue(Pattern.compile("(?m)^lstmcast bench: warning: concurrency 2: \\d+ socket errors? ConnectException "
                + "\\(first: Connection refused\\)$").matcher(r.err()).find(), r.err());
    }
}
