package org.lstmcast.serve.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.InferTensorContents;
import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.grpc.proto.ModelInferResponse;
import org.lstmcast.grpc.proto.ModelMetadataRequest;
import org.lstmcast.grpc.proto.ModelMetadataResponse;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.ServeFixtures;

/**
 * A batch-first ({@code layout=1}) ONNX LSTM dropped into the repository as its owner's Triton or KServe clients know
 * it: input {@code X [N, 6, 2]}, output {@code Y [N, 3, 1]}. ONNX Runtime cannot run it, so the server converts it;
 * the converted model must still be called by those names and shapes, over REST and gRPC, and answer what the
 * fixture script's NumPy forward pass of the source computed.
 */
class DropInSignatureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Path FIXTURE = Path.of("src/test/resources/convert/onnx/lstm_layout1_named");

    @TempDir
    static Path repo;
    static InferenceServer server;
    static String base;
    static ManagedChannel channel;
    static GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub stub;
    /** Three windows of 6 rows and 2 features, flat, and NumPy's [3, 3, 1] answers for them, flat. */
    static List<Double> windows;
    static List<Double> expected;

    @BeforeAll
    static void start() throws Exception {
        ServeFixtures.copy(Path.of(FIXTURE + ".onnx"), repo.resolve("named/1/model.onnx"));
        JsonNode fixture = JSON.readTree(Path.of(FIXTURE + ".expected.json").toFile());
        windows = doubles(fixture.path("inputs").path("X").path("data"));
        expected = doubles(fixture.path("outputs").path("Y").path("data"));
        assertEquals(List.of(3, 6, 2), ints(fixture.path("inputs").path("X").path("shape")));
        ServeConfig config = new ServeConfig(repo, "127.0.0.1", 0, "cpu", 64, 0, 64, 2, 0.2, ServeConfig.Limits.defaults(),
                null).withGrpc(new ServeConfig.Grpc(0, 1 << 20));
        server = new InferenceServer(config);
        base = "http://127.0.0.1:" + server.start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.grpcPort()).usePlaintext().build();
        stub = GRPCInferenceServiceGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
    }

    @Test
    void metadataListsTheSourcesNamesShapesAndTypes() throws Exception {
        JsonNode meta = json(get("/v2/models/named"));
        assertTrue(Files.isRegularFile(repo.resolve("named/1/model.converted.onnx")), "served from a conversion");
        assertEquals(1, meta.path("inputs").size(), meta.toString());
        assertEquals("X", meta.path("inputs").get(0).path("name").asText(), meta.toString());
        assertEquals("FP32", meta.path("inputs").get(0).path("datatype").asText());
        assertEquals("[-1,6,2]", meta.path("inputs").get(0).path("shape").toString());
        assertEquals(1, meta.path("outputs").size(), meta.toString());
        assertEquals("Y", meta.path("outputs").get(0).path("name").asText(), meta.toString());
        assertEquals("FP32", meta.path("outputs").get(0).path("datatype").asText());
        assertEquals("[-1,3,1]", meta.path("outputs").get(0).path("shape").toString());

        ModelMetadataResponse m = stub.modelMetadata(ModelMetadataRequest.newBuilder().setName("named").build());
        assertEquals("X", m.getInputs(0).getName());
        assertEquals(List.of(-1L, 6L, 2L), m.getInputs(0).getShapeList());
        assertEquals("FP32", m.getInputs(0).getDatatype());
        assertEquals("Y", m.getOutputs(0).getName());
        assertEquals(List.of(-1L, 3L, 1L), m.getOutputs(0).getShapeList());
        assertEquals("FP32", m.getOutputs(0).getDatatype());
    }

    @Test
    void restInferenceNamingXAnswersYAsNumpyDoes() throws Exception {
        StringBuilder data = new StringBuilder();
        for (double v : windows) {
            data.append(data.length() > 0 ? "," : "").append((float) v);
        }
        JsonNode r = json(post("/v2/models/named/infer", "{\"inputs\": [{\"name\": \"X\", \"shape\": [3, 6, 2], "
                + "\"datatype\": \"FP32\", \"data\": [" + data + "]}], \"outputs\": [{\"name\": \"Y\"}]}"));
        JsonNode out = r.path("outputs").get(0);
        assertEquals("Y", out.path("name").asText(), r.toString());
        assertEquals("[3,3,1]", out.path("shape").toString());
        assertClose(expected, doubles(out.path("data")), "REST");
    }

    @Test
    void grpcInferenceNamingXAnswersYAsNumpyDoes() {
        InferTensorContents.Builder contents = InferTensorContents.newBuilder();
        windows.forEach(v -> contents.addFp32Contents(v.floatValue()));
        ModelInferResponse r = stub.modelInfer(ModelInferRequest.newBuilder().setModelName("named")
                .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("X").setDatatype("FP32")
                        .addShape(3).addShape(6).addShape(2).setContents(contents))
                .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("Y")).build());
        assertEquals("Y", r.getOutputs(0).getName());
        assertEquals(List.of(3L, 3L, 1L), r.getOutputs(0).getShapeList());
        List<Double> got = new ArrayList<>();
        if (r.getRawOutputContentsCount() > 0) {
            FloatBuffer f = r.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                    .asFloatBuffer();
            while (f.hasRemaining()) {
                got.add((double) f.get());
            }
        } else {
            r.getOutputs(0).getContents().getFp32ContentsList().forEach(v -> got.add((double) v));
        }
        assertClose(expected, got, "gRPC");
    }

    @Test
    void theForecastApiStillForecastsFromTheConvertedModel() throws Exception {
        // The forecast route reads the model's own description: one window of 6 rows, 3 steps ahead.
        StringBuilder window = new StringBuilder("{\"inputs\": [[");
        for (int t = 0; t < 6; t++) {
            window.append(t > 0 ? "," : "").append('[').append(windows.get(2 * t)).append(',').append(windows.get(2 * t + 1))
                    .append(']');
        }
        JsonNode r = json(post("/v1/models/named/forecast", window.append("]]}").toString()));
        assertClose(expected.subList(0, 3), doubles(r.path("forecasts").get(0)), "forecast API");
    }

    private static void assertClose(List<Double> want, List<Double> got, String route) {
        assertEquals(want.size(), got.size(), route + ": " + got);
        for (int i = 0; i < want.size(); i++) {
            double w = want.get(i);
            assertTrue(Math.abs(got.get(i) - w) <= 1e-4 * Math.max(1, Math.abs(w)),
                    route + " value " + i + ": NumPy " + w + ", served " + got.get(i));
        }
    }

    /** The numbers of a JSON array, nested or flat, in order. */
    private static List<Double> doubles(JsonNode array) {
        List<Double> out = new ArrayList<>();
        if (array.isArray()) {
            array.forEach(e -> out.addAll(doubles(e)));
        } else {
            out.add(array.asDouble());
        }
        return out;
    }

    private static List<Integer> ints(JsonNode array) {
        List<Integer> out = new ArrayList<>();
        array.forEach(e -> out.add(e.asInt()));
        return out;
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> r) throws Exception {
        assertEquals(200, r.statusCode(), r.body());
        return JSON.readTree(r.body());
    }
}
