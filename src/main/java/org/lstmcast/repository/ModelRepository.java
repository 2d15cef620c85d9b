package org.lstmcast.repository;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The Triton layout {@code <repo>/<name>/<version>/model.onnx}, numeric versions, the highest the default. Names and
 * versions are matched against strict patterns before they touch the file system, so a request can never name a
 * path outside the repository.
 */
public final class ModelRepository {
    public static final String MODEL_FILE = "model.onnx";
    /** Models from elsewhere, converted when the server finds them: a Keras HDF5 file, a DL4J zip. */
    public static final List<String> SOURCE_FILES = List.of("model.h5", "model.zip");
    /** Model-level settings for serving: batching and limits. */
    public static final String CONFIG_FILE = "config.json";
    /** Forecast settings for models that carry no lstmcast metadata. */
    public static final String FORECAST_FILE = "forecast.json";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,127}");
    private static final Pattern VERSION = Pattern.compile("[1-9][0-9]{0,17}");

    private ModelRepository() {
    }

    public static boolean validName(String name) {
        return name != null && NAME.matcher(name).matches() && !name.contains("..");
    }

    public static boolean validVersion(String version) {
        return version != null && VERSION.matcher(version).matches();
    }

    /** The file a version folder serves from: {@code model.onnx}, else a source to convert, else null. */
    public static Path modelFile(Path versionDir) {
        Path onnx = versionDir.resolve(MODEL_FILE);
        if (Files.isRegularFile(onnx)) {
            return onnx;
        }
        for (String source : SOURCE_FILES) {
            Path p = versionDir.resolve(source);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** The highest numeric version folder under {@code modelDir}, or 0 when there is none. */
    public static long highestVersion(Path modelDir) throws IOException {
        if (!Files.isDirectory(modelDir)) {
            return 0;
        }
        try (Stream<Path> entries = Files.list(modelDir)) {
            return entries.filter(Files::isDirectory)
                    .map(p -> p.getFileName().toString())
                    .filter(ModelRepository::validVersion)
                    .mapToLong(Long::parseLong)
                    .max().orElse(0);
        }
    }

    /**
     * The file an {@code --out} or {@code --export} option names: itself when it ends in {@code .onnx}, else the next
     * version of the model folder it names, {@code REPO/NAME/<highest + 1>/model.onnx}.
     *
     * @throws IllegalArgumentException naming {@code option} when the folder's name is not a model name
     */
    public static Path outputFile(Path out, String option) throws IOException {
        if (out.getFileName() != null && out.getFileName().toString().endsWith(".onnx")) {
            return out;
        }
        if (out.getFileName() == null || !validName(out.getFileName().toString())) {
            throw new IllegalArgumentException(option + " " + out + ": a model folder's name must match "
                    + "[A-Za-z0-9][A-Za-z0-9_.-]* (or name a file ending in .onnx)");
        }
        return nextVersionFile(out);
    }

    /** Where the next version's model goes: {@code modelDir/<highest + 1>/model.onnx}. */
    public static Path nextVersionFile(Path modelDir) throws IOException {
        return modelDir.resolve(Long.toString(highestVersion(modelDir) + 1)).resolve(MODEL_FILE);
    }

    /**
     * Writes {@code bytes} to {@code target} through a readable temporary file beside it, moved onto it atomically: a
     * server polling the folder never sees half a model.
     */
    public static void write(Path target, byte[] bytes) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempFile(parent, "." + target.getFileName(), ".tmp");
        try {
            Files.write(staging, bytes);
            if (staging.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                // A temporary file is private; the model is meant to be read by a server running as another user.
                Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rw-r--r--"));
            }
            Files.move(staging, target, StandardCopyOption.REPLACE_EXISTING,
                    StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(staging);
        }
    }
}
