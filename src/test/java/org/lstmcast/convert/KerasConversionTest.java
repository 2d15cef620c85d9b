package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.Network;
import org.lstmcast.model.ReferencePass;

/**
 * Every Keras fixture (written by {@code src/test/resources/convert/make_keras_fixtures.py} with expected outputs from
 * an independent NumPy forward pass) is read, checked through the Java reference pass, converted, and run in ONNX
 * Runtime; both must match NumPy.
 */
class KerasConversionTest {
    static final Path DIR = Path.of("src/test/resources/convert/keras");
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> fixtures() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".h5"))
                    .map(n -> n.substring(0, n.length() - 3)).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("fixtures")
    void convertsAndMatchesNumpy(String name) throws IOException {
        JsonNode expected = JSON.readTree(DIR.resolve(name + ".expected.json").toFile());
        Path h5 = DIR.resolve(name + ".h5");
        if (expected.has("refused")) {
            ConversionException e = assertThrows(ConversionException.class, () -> KerasReader.read(h5, null));
            assertTrue(e.getMessage().contains(expected.get("refused").asText()), e.getMessage());
            return;
        }
        Network net = KerasReader.read(h5, null);
        List<double[][]> windows = windows(expected.get("inputs"));
        double[][] want = flatRows(expected.get("outputs"));

        double[][] reference = new double[windows.size()][];
        for (int i = 0; i < windows.size(); i++) {
            reference[i] = ReferencePass.run(net, new double[][][] {windows.get(i)}).flat(0);
        }
        assertClose(want, reference, 1e-9, name + " reference pass");

        ConvertOptions o = ConvertOptions.defaults().withLookback(windows.get(0).length);
        Converter.Result result = Converter.fromNetwork(net, Converter.Kind.KERAS, "0", o);
        assertTrue(result.parity().ok(), name + ": " + result.parity());
        double[][] ort = Converter.runOrt(result.bytes(), windows);
        assertClose(want, ort, 1e-4, name + " ONNX Runtime");
    }

    static List<double[][]> windows(JsonNode inputs) {
        List<double[][]> out = new ArrayList<>();
        for (JsonNode w : inputs) {
            double[][] rows = new double[w.size()][];
            for (int t = 0; t < rows.length; t++) {
                rows[t] = new double[w.get(t).size()];
                for (int f = 0; f < rows[t].length; f++) {
                    rows[t][f] = w.get(t).get(f).asDouble();
                }
            }
            out.add(rows);
        }
        return out;
    }

    static double[][] flatRows(JsonNode outputs) {
        double[][] out = new double[outputs.size()][];
        for (int i = 0; i < out.length; i++) {
            List<Double> values = new ArrayList<>();
            flatten(outputs.get(i), values);
            out[i] = values.stream().mapToDouble(Double::doubleValue).toArray();
        }
        return out;
    }

    private static void flatten(JsonNode n, List<Double> into) {
        if (n.isArray()) {
            n.forEach(c -> flatten(c, into));
        } else {
            into.add(n.asDouble());
        }
    }

    /** Relative to each value, floored at 1e-3 of the largest expected magnitude so values near zero are fair. */
    static void assertClose(double[][] want, double[][] got, double tolerance, String what) {
        assertEquals(want.length, got.length, what + ": rows");
        double scale = 0;
        for (double[] r : want) {
            for (double v : r) {
                scale = Math.max(scale, Math.abs(v));
            }
        }
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i].length, got[i].length, what + ": values in row " + i);
            for (int j = 0; j < want[i].length; j++) {
                double err = Math.abs(want[i][j] - got[i][j]) / Math.max(Math.abs(want[i][j]), Math.max(1e-3 * scale, 1e-12));
                assertTrue(err <= tolerance, what + ": [" + i + "][" + j + "] want " + want[i][j] + " got " + got[i][j]
                        + " (relative error " + err + ")");
            }
        }
    }
}
