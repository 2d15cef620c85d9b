package org.lstmcast.export;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Series;
import org.lstmcast.data.Windows;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.Ort;
import org.lstmcast.train.ModelFile;

/**
 * Exports a trained model to ONNX and proves the file equal to the DL4J network plus the Java preprocessing it
 * came from, on every window of the model's test evaluation, before the file is put in place.
 */
public final class Export {
    /** The largest relative difference a faithful export may show: float32 arithmetic in another order. */
    public static final double TOLERANCE = 1e-4;

    /** How closely ONNX Runtime reproduced DL4J on the test windows. */
    public record Parity(int windows, int values, double maxAbsError, double maxRelError) {
        public boolean ok() {
            return maxRelError <= TOLERANCE;
        }

        /** This proof and {@code other}, on the same windows: their values counted together, the larger errors kept. */
        public Parity with(Parity other) {
            return new Parity(windows, values + other.values, Math.max(maxAbsError, other.maxAbsError),
                    Math.max(maxRelError, other.maxRelError));
        }
    }

    /** An export that did not pass its parity proof; nothing was written. */
    public static final class ParityException extends RuntimeException {
        private final Parity parity;

        public ParityException(Parity parity) {
            super(String.format(java.util.Locale.ROOT,
                    "the ONNX graph differs from the DL4J network: max relative error %.3g > %.0e over %d windows; no file written",
                    parity.maxRelError(), TOLERANCE, parity.windows()));
            this.parity = parity;
        }

        public Parity parity() {
            return parity;
        }
    }

    private Export() {
    }

    /** Exports {@code model.zip} to {@code out}; throws {@link ParityException} and writes nothing if the proof fails. */
    public static Parity export(Path modelZip, Path out) throws IOException, OrtException {
        ModelFile.Loaded loaded = ModelFile.load(modelZip);
        if (loaded.test() == null) {
            throw new DataException(modelZip + ": holds no test rows to prove the export against; retrain it with this version");
        }
        OnnxMl.ModelProto model = OnnxExporter.export(loaded.forecaster().networks(), loaded.info());
        Path staging = stage(out, model.toByteArray());
        try {
            Parity parity = prove(loaded, staging);
            if (!parity.ok()) {
                throw new ParityException(parity);
            }
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

    /** Runs every test window through ONNX Runtime and through DL4J, and compares the forecasts. */
    static Parity prove(ModelFile.Loaded loaded, Path onnx) throws OrtException {
        Series test = loaded.test();
        int lookback = loaded.info().lookback();
        int horizon = loaded.info().horizon();
        List<double[][]> windows = new ArrayList<>();
        for (int origin = lookback - 1; origin < test.rows() - 1; origin++) {
            windows.add(Windows.window(test.values(), origin, lookback));
        }
        double[][] expected = loaded.forecaster().forecast(windows);
        double[][] actual;
        org.lstmcast.forecast.ForecastSpec spec;
        try (OnnxForecaster onnxModel = OnnxForecaster.open(onnx)) {
            spec = onnxModel.spec();
            actual = new double[windows.size()][];
            for (int from = 0; from < windows.size(); from += 256) {
                List<double[][]> chunk = windows.subList(from, Math.min(windows.size(), from + 256));
                double[][] part = onnxModel.forecast(chunk, horizon);
                System.arraycopy(part, 0, actual, from, part.length);
            }
        }
        Parity parity = compare(expected, actual);
        Intervals intervals = loaded.info().predictionIntervals();
        if (intervals == null) {
            return parity;
        }
        // The interval outputs against the same computation in Java on the DL4J forecasts: both ends, every level.
        float[][][][] onnxBounds = bounds(onnx, windows, spec);
        for (int l = 0; l < intervals.levels().length; l++) {
            double[][][] want = new double[2][windows.size()][];
            double[][][] got = new double[2][windows.size()][horizon];
            for (int i = 0; i < windows.size(); i++) {
                double[][] b = intervals.bounds(expected[i], l);
                want[0][i] = b[0];
                want[1][i] = b[1];
                for (int h = 0; h < horizon; h++) {
                    got[0][i][h] = onnxBounds[0][i][h][l];
                    got[1][i][h] = onnxBounds[1][i][h][l];
                }
            }
            for (int end = 0; end < 2; end++) {
                parity = parity.with(compare(want[end], got[end]));
            }
        }
        return parity;
    }

    /** The file's {@link Intervals#LOWER} and {@link Intervals#UPPER} outputs for the windows: {@code [end][window][step][level]}. */
    private static float[][][][] bounds(Path onnx, List<double[][]> windows, org.lstmcast.forecast.ForecastSpec spec)
            throws OrtException {
        float[][][][] out = new float[2][windows.size()][][];
        try (OrtSession.SessionOptions options = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(onnx.toString(), options)) {
            for (int from = 0; from < windows.size(); from += 256) {
                int to = Math.min(windows.size(), from + 256);
                float[][][] x = new float[to - from][][];
                for (int i = from; i < to; i++) {
                    x[i - from] = OnnxForecaster.tail(spec, windows.get(i));
                }
                try (OnnxTensor input = OnnxTensor.createTensor(Ort.environment(), x);
                     OrtSession.Result result = session.run(Map.of(org.lstmcast.forecast.ForecastSpec.INPUT, input),
                             java.util.Set.of(Intervals.LOWER, Intervals.UPPER))) {
                    float[][][] lower = (float[][][]) result.get(Intervals.LOWER).orElseThrow().getValue();
                    float[][][] upper = (float[][][]) result.get(Intervals.UPPER).orElseThrow().getValue();
                    System.arraycopy(lower, 0, out[0], from, lower.length);
                    System.arraycopy(upper, 0, out[1], from, upper.length);
                }
            }
        }
        return out;
    }

    /**
     * Max absolute and max relative error. Relative to the larger magnitude of the pair, floored at a hundredth of the
     * largest expected magnitude: float32 rounding scales with the magnitudes inside the network, not with one output,
     * so a value near zero (2e-3 beside others at 0.5, off by 2.4e-7) would otherwise read as a large relative error.
     * A mapping error (a gate out of order, a missing bias) moves outputs by far more than that.
     */
    public static Parity compare(double[][] expected, double[][] actual) {
        double largest = 0;
        for (double[] row : expected) {
            for (double v : row) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        double floor = Math.max(1e-2 * largest, 1e-6);
        double maxAbs = 0;
        double maxRel = 0;
        int n = 0;
        for (int i = 0; i < expected.length; i++) {
            for (int h = 0; h < expected[i].length; h++) {
                double e = expected[i][h];
                double a = actual[i][h];
                double abs = Math.abs(e - a);
                double rel = abs / Math.max(Math.max(Math.abs(e), Math.abs(a)), floor);
                if (Double.isNaN(abs)) {
                    abs = Double.POSITIVE_INFINITY;
                    rel = Double.POSITIVE_INFINITY;
                }
                maxAbs = Math.max(maxAbs, abs);
                maxRel = Math.max(maxRel, rel);
                n++;
            }
        }
        return new Parity(expected.length, n, maxAbs, maxRel);
    }
}
