package org.lstmcast.export;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

import org.lstmcast.data.Transform;
import org.lstmcast.train.TrainConfig;
import org.lstmcast.train.TrainingListener;
import org.lstmcast.train.TrainingRun;

/** A small model trained and exported for real in a few seconds, for tests of what uses an export. */
public final class SmallExport {
    private SmallExport() {
    }

    /**
     * Trains on a positive seasonal series with noise (300 rows, lookback 12, horizon 3, relative transform, so its
     * intervals scale with the level) and exports it to {@code onnx}.
     */
    public static void write(Path work, Path onnx) throws Exception {
        Random random = new Random(5);
        StringBuilder csv = new StringBuilder("t,y\n");
        for (int t = 0; t < 300; t++) {
            csv.append(t).append(',').append(100 + 0.1 * t + 5 * Math.sin(2 * Math.PI * t / 12) + random.nextGaussian())
                    .append('\n');
        }
        TrainConfig config = new TrainConfig("y", List.of(), 12, 3, Transform.RELATIVE, 0, 1, 8, 0, 2, 32, 0.01, 5, 0.15,
                0.2, 3);
        Path run = work.resolve("small-run");
        TrainingRun.run(csv.toString().getBytes(StandardCharsets.UTF_8), "small.csv", null, config, run, TrainingListener.NONE);
        Files.createDirectories(onnx.toAbsolutePath().getParent());
        Export.export(run.resolve("model.zip"), onnx);
    }
}
