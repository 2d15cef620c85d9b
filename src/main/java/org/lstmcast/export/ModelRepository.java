package org.lstmcast.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The Triton layout {@code <repo>/<name>/<version>/model.onnx}, numeric versions. */
public final class ModelRepository {
    public static final String MODEL_FILE = "model.onnx";

    private ModelRepository() {
    }

    /** The highest numeric version folder under {@code modelDir}, or 0 when there is none. */
    public static long highestVersion(Path modelDir) throws IOException {
        if (!Files.isDirectory(modelDir)) {
            return 0;
        }
        try (Stream<Path> entries = Files.list(modelDir)) {
            return entries.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(n -> n.matches("[1-9][0-9]{0,17}"))
                    .mapToLong(Long::parseLong)
                    .max().orElse(0);
        }
    }

    /** Where the next version's model goes: {@code modelDir/<highest + 1>/model.onnx}. */
    public static Path nextVersionFile(Path modelDir) throws IOException {
        return modelDir.resolve(Long.toString(highestVersion(modelDir) + 1)).resolve(MODEL_FILE);
    }
}
