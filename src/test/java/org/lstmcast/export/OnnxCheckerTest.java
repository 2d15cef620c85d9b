package org.lstmcast.export;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.Transform;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;

/**
 * Exports pass the reference ONNX checker ({@code onnx.checker.check_model(model, full_check=True)}, from the
 * {@code python3-onnx} package). CI installs it; elsewhere the test is skipped when no Python has onnx.
 */
public class OnnxCheckerTest {
    @TempDir
    Path tmp;

    private static final String CHECK = String.join("\n",
            "import sys, onnx",
            "for p in sys.argv[1:]:",
            "    onnx.checker.check_model(onnx.load(p), full_check=True)",
            "    print('ok', p)");

    @Test
    void exportsAndBundledModelsPassTheOnnxChecker() throws Exception {
        String python = pythonWithOnnx();
        assumeTrue(python != null || System.getenv("CI") != null, "no python3 with the onnx package (apt-get install python3-onnx)");
        assertTrue(python != null, "CI must have python3-onnx installed (.ci/run installs it)");

        List<String> files = new ArrayList<>();
        int k = 0;
        for (Transform t : Transform.values()) {
            // The seasonal transforms (and auto, which may choose them) with a season of 4: Gather picks the anchors.
            // Auto's model is an ensemble of two, so the checker also sees members side by side and their Mean.
            int season = t.anchorSeasons() > 0 || t == Transform.AUTO ? 4 : 0;
            TrainConfig config = new TrainConfig("y", k == 1 ? List.of("x0") : List.of(), 10, 1 + 2 * k, t, season, 1 + k, 8, 0,
                    1, 32, 0.01, 5, 0.1, 0.2, 1, t == Transform.AUTO ? 2 : 1);
            String csv = ExportParityTest.multivariate(200, 1, k);
            Path run = tmp.resolve("run" + k);
            TrainingRun.run(csv.getBytes(StandardCharsets.UTF_8), "gen.csv", null, config, run, TrainingListener.NONE);
            Path onnx = tmp.resolve("model" + k + ".onnx");
            Export.export(run.resolve("model.zip"), onnx);
            files.add(onnx.toString());
            k++;
        }
        try (Stream<Path> bundled = Files.walk(Path.of("models"))) {
            bundled.filter(p -> p.toString().endsWith(".onnx")).forEach(p -> files.add(p.toString()));
        }
        assertTrue(files.size() >= 5, "the bundled models are checked too: " + files);

        List<String> command = new ArrayList<>(List.of(python, "-c", CHECK));
        command.addAll(files);
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "checker finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertEquals(files.size(), out.lines().filter(l -> l.startsWith("ok ")).count(), out);
    }

    /** Debian's python3-onnx installs for the system Python, which may not be the first python3 on PATH. */
    public static String pythonWithOnnx() throws InterruptedException {
        for (String candidate : List.of("/usr/bin/python3", "python3")) {
            try {
                Process p = new ProcessBuilder(candidate, "-c", "import onnx").redirectErrorStream(true).start();
                p.getInputStream().readAllBytes();
                if (p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0) {
                    return candidate;
                }
            } catch (IOException e) {
                // not installed; try the next
            }
        }
        return null;
    }
}
