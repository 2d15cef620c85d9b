package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.model.GraphBuilder;

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
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
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

    /**
     * A forecaster, {@code input [batch, sequence, 1] -> forecast [batch, 1]}, whose cost grows with the cube of the
     * sequence: the window's outer product, squared {@code nodes} times. Many small nodes rather than one LSTM node,
     * because ONNX Runtime looks at a run's terminate flag between nodes, never inside one.
     */
    public static byte[] slowModel(int nodes) {
        return slowModel(nodes, "forecast");
    }

    /** {@link #slowModel(int)} with the given outputs, each the same {@code [batch, 1]}. */
    public static byte[] slowModel(int nodes, String... outputs) {
        GraphBuilder g = new GraphBuilder("slow");
        String column = g.node("Transpose", List.of("input"), List.of(GraphBuilder.attr("perm", new long[] {0, 2, 1})),
                g.fresh("row"));
        String z = g.node("Tanh", g.node("MatMul", "input", column));
        for (int i = 0; i < nodes; i++) {
            // Scaled into tanh's slope, so the values neither vanish nor saturate.
            z = g.node("Tanh", g.node("Mul", g.node("MatMul", z, z), g.floats(g.fresh("scale"), new float[] {0.01f})));
        }
        String rows = g.node("ReduceMean", List.of(z), List.of(GraphBuilder.attr("axes", new long[] {2}),
                GraphBuilder.attr("keepdims", 0L)), g.fresh("rows"));
        String out = g.node("ReduceMean", List.of(rows), List.of(GraphBuilder.attr("axes", new long[] {1}),
                GraphBuilder.attr("keepdims", 1L)), outputs[0]);
        g.proto().addInput(GraphBuilder.floatValue("input", "batch", "sequence", 1L));
        for (String name : outputs) {
            if (!name.equals(out)) {
                g.node("Identity", List.of(out), List.of(), name);
            }
            g.proto().addOutput(GraphBuilder.floatValue(name, "batch", 1L));
        }
        return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(17))
                .setGraph(g.proto()).build().toByteArray();
    }
}
