package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/** The OpenAPI document against the live routes: every route documented, every documented route answering. */
class OpenApiTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** The browser pages and their files: not API routes, and gone with --no-console. */
    private static final Set<String> CONSOLE = Set.of("GET /", "GET /models/{model}", "GET /docs", "GET /console/<file>",
            "GET /webjars/<file>");

    @TempDir
    static Path repo;
    static InferenceServer server;
    static String base;
    static String text;
    static JsonNode doc;

    @BeforeAll
    static void start() throws Exception {
        ServeFixtures.copy(Path.of("models/dax/1/model.onnx"), repo.resolve("dax/1/model.onnx"));
        server = new InferenceServer(ServeConfig.defaults(repo).withPort(0));
        base = "http://127.0.0.1:" + server.start();
        try (InputStream in = OpenApiTest.class.getResourceAsStream("/openapi.json")) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        doc = JSON.readTree(text);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void parsesAsOpenApi31WithoutMessages() {
        ParseOptions options = new ParseOptions();
        options.setResolve(true);
        SwaggerParseResult result = new OpenAPIV3Parser().readContents(text, null, options);
        assertNotNull(result.getOpenAPI(), String.valueOf(result.getMessages()));
        assertEquals(List.of(), result.getMessages());
        assertEquals("3.1.0", result.getOpenAPI().getOpenapi());
        assertTrue(result.getOpenAPI().getPaths().size() >= 17);
    }

    @Test
    void everyRouteTheServerRegistersIsDocumented() {
        Set<String> documented = documented();
        Set<String> missing = new TreeSet<>();
        for (String route : server.routes()) {
            if (!CONSOLE.contains(route) && !documented.contains(route)) {
                missing.add(route);
            }
        }
        assertEquals(Set.of(), missing, "routes without a description in openapi.json");
        assertTrue(server.routes().containsAll(CONSOLE), server.routes().toString());
    }

    @Test
    void everyDocumentedRouteAnswers() throws Exception {
        List<String> failures = new ArrayList<>();
        for (String route : documented()) {
            String method = route.substring(0, route.indexOf(' '));
            String path = route.substring(route.indexOf(' ') + 1).replace("{model}", "dax").replace("{version}", "1");
            assertTrue(server.routes().contains(route), route + " is documented but not registered");
            HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
            b = method.equals("GET") ? b.GET() : b.method(method, HttpRequest.BodyPublishers.ofString("{}"));
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 404 || r.statusCode() == 405) {
                failures.add(route + " -> " + r.statusCode() + " " + r.body());
            }
        }
        assertEquals(List.of(), failures);
    }

    @Test
    void theServedDocumentIsTheResourceFile() throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/openapi.json")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode());
        assertEquals(doc, JSON.readTree(r.body()));
    }

    @Test
    void everyExampleIsValidAgainstItsSchema() {
        JsonSchemaFactory factory = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V202012);
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> paths = doc.get("paths").fields(); paths.hasNext(); ) {
            Map.Entry<String, JsonNode> path = paths.next();
            for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
                Map.Entry<String, JsonNode> op = ops.next();
                String where = op.getKey().toUpperCase() + " " + path.getKey();
                List<Map.Entry<String, JsonNode>> media = new ArrayList<>();
                op.getValue().path("requestBody").path("content").fields().forEachRemaining(media::add);
                op.getValue().path("responses").fields().forEachRemaining(resp ->
                        resp.getValue().path("content").fields().forEachRemaining(media::add));
                for (Map.Entry<String, JsonNode> m : media) {
                    if (!m.getKey().equals("application/json")) {
                        continue;
                    }
                    ObjectNode schemaDoc = JSON.createObjectNode();
                    schemaDoc.put("$schema", "https://json-schema.org/draft/2020-12/schema");
                    schemaDoc.set("components", doc.get("components"));
                    schemaDoc.putArray("allOf").add(m.getValue().get("schema"));
                    JsonSchema schema = factory.getSchema(schemaDoc);
                    List<JsonNode> examples = new ArrayList<>();
                    if (m.getValue().has("example")) {
                        examples.add(m.getValue().get("example"));
                    }
                    m.getValue().path("examples").forEach(e -> examples.add(e.get("value")));
                    for (JsonNode example : examples) {
                        checked++;
                        Set<ValidationMessage> errors = schema.validate(example);
                        if (!errors.isEmpty()) {
                            problems.add(where + " " + m.getKey() + ": " + errors);
                        }
                    }
                }
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(checked >= 30, "examples checked: " + checked);
        // A wrong example must fail, or the check above proves nothing.
        ObjectNode schemaDoc = JSON.createObjectNode();
        schemaDoc.set("components", doc.get("components"));
        schemaDoc.put("$ref", "#/components/schemas/ForecastRequest");
        assertNotEquals(Set.of(), factory.getSchema(schemaDoc).validate(JSON.createObjectNode().put("horizon", 0)));
    }

    @Test
    void theConsoleCanBeTurnedOffButTheDocumentStays() throws Exception {
        assertEquals(200, status(base, "/"));
        assertEquals(200, status(base, "/models/dax"));
        assertEquals(200, status(base, "/webjars/chart.js/dist/chart.umd.min.js"));
        for (String escape : List.of("/webjars/chart.js/../../../../org/lstmcast/serve/rest/Console.class",
                "/console/%2e%2e/org/lstmcast/serve/rest/Console.class", "/webjars/chart.js/%2e%2e/%2e%2e/pom.xml")) {
            int s = status(base, escape);
            assertTrue(s == 400 || s == 404, escape + " -> " + s);
        }
        try (InferenceServer off = new InferenceServer(ServeConfig.defaults(repo).withPort(0).withConsole(false))) {
            String offBase = "http://127.0.0.1:" + off.start();
            for (String page : List.of("/", "/docs", "/models/dax", "/console/console.css", "/webjars/chart.js/dist/chart.umd.min.js")) {
                assertEquals(404, status(offBase, page), page);
            }
            assertEquals(200, status(offBase, "/openapi.json"));
            assertEquals(200, status(offBase, "/v1/models"));
        }
    }

    private static int status(String base, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** "METHOD /path" of every operation in the document. */
    private static Set<String> documented() {
        Set<String> out = new TreeSet<>();
        doc.get("paths").fields().forEachRemaining(p -> p.getValue().fieldNames()
                .forEachRemaining(method -> out.add(method.toUpperCase() + " " + p.getKey())));
        return out;
    }
}
