package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.lstmcast.model.Proof;

/**
 * Real Keras files saved by Keras itself (Keras 2.0.6 to 3.10), kept outside the repository in
 * {@code ../shared/keras/} with reference outputs from an independent NumPy forward pass. Each converts, runs in
 * ONNX Runtime and matches its reference within 1e-4 relative. Skipped where that folder is absent.
 */
class SharedKerasTest {
    static final Path SHARED = Path.of(System.getProperty("lstmcast.shared",
            System.getenv().getOrDefault("LSTMCAST_SHARED", "../shared"))).resolve("keras");
    private static final ObjectMapper JSON = new ObjectMapper();

    static Stream<String> references() throws IOException {
        Path refs = SHARED.resolve("references");
        if (!Files.isDirectory(refs)) {
            return Stream.of("(no shared Keras files)");
        }
        try (Stream<Path> files = Files.list(refs)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".reference.json"))
                    .map(n -> n.substring(0, n.length() - ".reference.json".length())).sorted().toList().stream();
        }
    }

    @ParameterizedTest
    @MethodSource("references")
    void convertsAndMatchesItsReference(String name) throws IOException {
        assumeTrue(Files.isDirectory(SHARED.resolve("references")), "../shared/keras is not present");
        JsonNode ref = JSON.readTree(SHARED.resolve("references").resolve(name + ".reference.json").toFile());
        Path model = SHARED.resolve("models").resolve(name + ".h5");
        Path config = null;
        if (Files.isDirectory(SHARED.resolve("models").resolve(name))) {
            Path dir = SHARED.resolve("models").resolve(name);
            try (Stream<Path> files = Files.list(dir)) {
                List<Path> all = files.toList();
                model = all.stream().filter(p -> p.toString().endsWith(".h5")).findFirst().orElseThrow();
                config = all.stream().filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
            }
        }
        List<double[][]> windows = KerasConversionTest.windows(ref.get("inputs"));
        double[][] want = KerasConversionTest.flatRows(ref.get("outputs"));
        ConvertOptions o = ConvertOptions.defaults().withLookback(windows.get(0).length).withKerasConfig(config);
        Converter.Result result = Converter.convert(model, o);
        assertTrue(result.parity().ok(), name + ": proof " + result.parity());
        double[][] ort = Converter.runOrt(result.bytes(), windows);
        Proof.Parity p = Proof.compare(want, ort);
        System.out.printf(Locale.ROOT, "shared keras %s: %s, max abs %.3g, max rel %.3g%n", name, result.origin(),
                p.maxAbsError(), p.maxRelError());
        KerasConversionTest.assertClose(want, ort, 1e-4, name);
        assertTrue(p.maxRelError() <= 1e-4, name + ": " + p);
    }
}
