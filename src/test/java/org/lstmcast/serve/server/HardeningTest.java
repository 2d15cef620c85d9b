package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/** The server's defences: API key, limits named in their errors, nothing read from outside the repository. */
class HardeningTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path root;
    static InferenceServer server;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Path repo = Files.createDirectories(root.resolve("repo"));
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));
        ServeFixtures.copy(Path.of("models/co2/1/model.onnx"), repo.resolve("co2/1/model.onnx"));

        // A file beside the repository that a hostile model tries to make the server read.
        Files.write(root.resolve("secret.bin"), new byte[16]);
        OnnxMl.ModelProto dense = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(ServeFixtures.fixture("helper_dense.onnx")));
        OnnxMl.ModelProto.Builder evil = dense.toBuilder();
        OnnxMl.TensorProto w = evil.getGraph().getInitializer(0).toBuilder().clearFloatData().clearRawData()
                .setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue("../../../secret.bin"))
                .build();
        evil.getGraphBuilder().setInitializer(0, w);
        Files.createDirectories(repo.resolve("evil/1"));
        Files.write(repo.resolve("evil/1/model.onnx"), evil.build().toByteArray());
        // A symbolic link that points out of the repository.
        Files.createDirectories(repo.resolve("link/1"));
        Files.copy(Path.of("models/dax/1/model.onnx"), root.resolve("outside.onnx"));
        Files.createSymbolicLink(repo.resolve("link/1/model.onnx"), root.resolve("outside.onnx"));

        ServeConfig.Limits limits = new ServeConfig.Limits(64 * 1024, 3, 200, 50, 3, 30_000);
        // Four versions over a bound of three would be served lazily by default; these tests check loading at start.
        server = new InferenceServer(new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 64, 1, 0.2, limits, "s3cret-key")
                .withPreload(List.of("*")));
        base = "http://127.0.0.1:" + server.start();
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void strictReadinessWaitsForEveryModelInTheRepository() throws Exception {
        assertEquals(200, call("GET", "/v2/health/ready", null, null).statusCode(), "default: ready once scanned");
        ServeConfig strict = new ServeConfig(root.resolve("repo"), "127.0.0.1", 0, "cpu", 64, 0, 64, 1, 0.2,
                ServeConfig.Limits.defaults(), null).withStrictReadiness(true);
        try (InferenceServer s = new InferenceServer(strict)) {
            String url = "http://127.0.0.1:" + s.start();
            HttpResponse<String> ready = HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v2/health/ready")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(503, ready.statusCode(), "two models of the repository failed to load: " + ready.body());
            assertEquals(200, HTTP.send(HttpRequest.newBuilder(URI.create(url + "/v2/models/dax/ready")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode(), "the others serve all the same");
        }
    }

    static HttpResponse<String> call(String method, String path, String body, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void apiKeyGuardsEverythingButHealth() throws Exception {
        assertEquals(200, call("GET", "/v2/health/live", null, null).statusCode());
        assertEquals(200, call("GET", "/v2/health/ready", null, null).statusCode());
        HttpResponse<String> none = call("GET", "/v1/models", null, null);
        ServeFixtures.assertError(none, 401, "API key");
        assertEquals("Bearer", none.headers().firstValue("WWW-Authenticate").orElse(""));
        ServeFixtures.assertError(call("GET", "/metrics", null, "s3cret"), 401, "API key");
        ServeFixtures.assertError(call("GET", "/v2", null, "s3cret-key-and-more"), 401, "API key");
        assertEquals(200, call("GET", "/v1/models", null, "s3cret-key").statusCode());
        assertEquals(200, call("GET", "/metrics", null, "s3cret-key").statusCode());
        // The forecast route has its own handler in front of Javalin: the same key, the same answer.
        String window = "{\"inputs\": [[" + String.join(",", Collections.nCopies(30, "5000")) + "]]}";
        HttpResponse<String> forecast = call("POST", "/v1/models/dax/forecast", window, "s3cret");
        ServeFixtures.assertError(forecast, 401, "API key");
        assertEquals("Bearer", forecast.headers().firstValue("WWW-Authenticate").orElse(""));
        ServeFixtures.assertError(call("POST", "/v1/models/dax/versions/1/forecast", window, null), 401, "API key");
        assertEquals(200, call("POST", "/v1/models/dax/versions/1/forecast", window, "s3cret-key").statusCode());
    }

    @Test
    void everyLimitIsNamedInItsError() throws Exception {
        String window = "[" + String.join(",", Collections.nCopies(30, "5000")) + "]";
        String four = "{\"inputs\": [" + String.join(",", Collections.nCopies(4, window)) + "]}";
        ServeFixtures.assertError(call("POST", "/v1/models/dax/forecast", four, "s3cret-key"), 400, "--max-windows");
        String longWindow = "{\"inputs\": [[" + String.join(",", Collections.nCopies(201, "5000")) + "]]}";
        ServeFixtures.assertError(call("POST", "/v1/models/dax/forecast", longWindow, "s3cret-key"), 400, "--max-window-length");
        ServeFixtures.assertError(call("POST", "/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": 51}",
                "s3cret-key"), 400, "--max-horizon");
        String huge = "{\"inputs\": [[" + "1,".repeat(40_000) + "1]]}";
        ServeFixtures.assertError(call("POST", "/v1/models/dax/forecast", huge, "s3cret-key"), 413, "--max-body-bytes");
        assertEquals(200, call("POST", "/v1/models/dax/forecast", "{\"inputs\": [" + window + "], \"horizon\": 50}",
                "s3cret-key").statusCode());
    }

    @Test
    void nothingOutsideTheRepositoryIsRead() throws Exception {
        JsonNode models = JSON.readTree(call("GET", "/v1/models", null, "s3cret-key").body());
        JsonNode evil = ServeFixtures.find(models, "evil", "1");
        assertEquals("FAILED", evil.path("state").asText(), models.toString());
        assertTrue(evil.path("reason").asText().contains("outside the model's folder"), evil.toString());
        JsonNode link = ServeFixtures.find(models, "link", "1");
        assertEquals("FAILED", link.path("state").asText(), models.toString());
        assertTrue(link.path("reason").asText().contains("outside the repository"), link.toString());
        ServeFixtures.assertError(call("POST", "/v1/models/%2e%2e/forecast", "{}", "s3cret-key"), 404, "");
        ServeFixtures.assertError(call("GET", "/v2/models/..%2F..%2Fsecret", null, "s3cret-key"), 404, "");
    }

    @Test
    void modelCountLimitIsReported() throws Exception {
        // dax and co2 are loaded; with --max-models 3 a third fits and a fourth does not.
        Path repo = root.resolve("repo");
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("third/1/model.onnx"));
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("fourth/1/model.onnx"));
        String key = "s3cret-key";
        ServeFixtures.awaitTrue(() -> {
            try {
                JsonNode m = JSON.readTree(call("GET", "/v1/models", null, key).body());
                return ServeFixtures.find(m, "third", "1") != null && ServeFixtures.find(m, "fourth", "1") != null;
            } catch (Exception e) {
                return false;
            }
        }, "both are scanned");
        JsonNode m = JSON.readTree(call("GET", "/v1/models", null, key).body());
        // The scan goes in name order: "fourth" comes before "third" and takes the last place.
        assertEquals("READY", ServeFixtures.find(m, "fourth", "1").path("state").asText(), m.toString());
        JsonNode third = ServeFixtures.find(m, "third", "1");
        assertEquals("FAILED", third.path("state").asText(), m.toString());
        assertTrue(third.path("reason").asText().contains("--max-models"), third.toString());
    }
}
