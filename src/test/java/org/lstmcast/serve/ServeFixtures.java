package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** Model files, repository copies and answer checks that the server's tests share, whichever shell they drive. */
public final class ServeFixtures {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ServeFixtures() {
    }

    public static Path fixture(String name) throws Exception {
        return Path.of(ServeFixtures.class.getResource("/fixtures/" + name).toURI());
    }

    public static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Path tmp = to.resolveSibling(".copy.tmp");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    public static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    public static JsonNode find(JsonNode list, String name, String version) {
        for (JsonNode m : list.path("models")) {
            if (m.path("name").asText().equals(name) && m.path("version").asText().equals(version)) {
                return m;
            }
        }
        return null;
    }

    public static void assertError(HttpResponse<String> r, int status, String contains) throws IOException {
        assertEquals(status, r.statusCode(), r.body());
        JsonNode body = JSON.readTree(r.body());
        assertTrue(body.path("error").isTextual(), r.body());
        assertTrue(body.path("error").asText().contains(contains), r.body());
        assertFalse(r.body().contains("\tat "), r.body());
    }

    public static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 20_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting until " + what);
    }

    public static double metric(String text, String name, String model) {
        Matcher m = Pattern.compile("^" + name + "\\{[^}]*model=\"" + model + "\"[^}]*\\} ([0-9.eE+-]+)$", Pattern.MULTILINE)
                .matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : 0;
    }
}
