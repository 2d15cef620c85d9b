package org.lstmcast.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

import ai.onnx.proto.OnnxMl;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Series;
import org.lstmcast.data.Windows;
import org.lstmcast.model.Proof;
import org.lstmcast.train.ModelFile;

/**
 * Exports a trained model to ONNX and proves the file equal to the DL4J network plus the Java preprocessing it
 * came from, on every window of the model's test evaluation, before the file is put in place.
 */
public final class Export {
    private Export() {
    }

    /**
     * Exports {@code model.zip} to {@code out}; throws {@link Proof.ParityException} and writes nothing if the proof
     * fails.
     */
    public static Proof.Parity export(Path modelZip, Path out) throws IOException {
        ModelFile.Loaded loaded = ModelFile.load(modelZip);
        if (loaded.test() == null) {
            throw new DataException(modelZip + ": holds no test rows to prove the export against; retrain it with this version");
        }
        OnnxMl.ModelProto model = OnnxExporter.export(loaded.forecaster().networks(), loaded.info());
        byte[] bytes = model.toByteArray();
        Proof.Parity parity = prove(loaded, bytes);
        if (!parity.ok()) {
            throw new Proof.ParityException(parity, "the DL4J network");
        }
        Path staging = stage(out, bytes);
        try {
            Files.move(staging, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return parity;
        } finally {
            Files.deleteIfExists(staging);
        }
    }

    /**
     * Writes {@code bytes} to a readable temporary file beside {@code target}, to be moved onto it atomically once
     * accepted (a server polling the folder never sees half a model); the caller deletes it when it is not moved.
     */
    public static Path stage(Path target, byte[] bytes) throws IOException {
        Path parent = target.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path staging = Files.createTempFile(parent, "." + target.getFileName(), ".tmp");
        try {
            Files.write(staging, bytes);
            if (staging.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                // A temporary file is private; the model is meant to be read by a server running as another user.
                Files.setPosixFilePermissions(staging, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            }
            return staging;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(staging);
            throw e;
        }
    }

    /** Every window of the test rows through ONNX Runtime and through DL4J with the Java preprocessing. */
    static Proof.Parity prove(ModelFile.Loaded loaded, byte[] onnx) {
        Series test = loaded.test();
        int lookback = loaded.info().lookback();
        List<double[][]> windows = new ArrayList<>();
        for (int origin = lookback - 1; origin < test.rows() - 1; origin++) {
            windows.add(Windows.window(test.values(), origin, lookback));
        }
        return Proof.prove(onnx, windows, loaded.forecaster()::forecast, loaded.info().predictionIntervals());
    }
}
