package org.lstmcast.djl;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.TensorCheck;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;

/**
 * DJL's view of an lstmcast ONNX export: a raw window {@code [rows][features]} in (at least {@code lookback} rows,
 * oldest first), its forecasts in original units out. The window is cut exactly as {@code predict} and
 * {@code serve} cut it.
 */
public final class ForecastTranslator implements Translator<double[][], double[]> {
    private ForecastSpec spec;
    /** The model's declared input shape (-1 for open dims): each window is checked against it before DJL runs it. */
    private long[] declared;

    /** For a model without lstmcast metadata, the settings to use; null to read them from the model file. */
    public ForecastTranslator(ForecastSpec spec) {
        this.spec = spec;
    }

    public ForecastTranslator() {
        this(null);
    }

    @Override
    public void prepare(TranslatorContext ctx) throws IOException {
        Path file = modelFile(ctx.getModel().getModelPath());
        ModelReport report = OnnxInspector.inspect(file, false);
        if (spec == null) {
            spec = ForecastSpec.fromMetadata(report.metadata());
            if (spec == null) {
                throw new IllegalArgumentException(file + " carries no lstmcast forecast metadata; pass a ForecastSpec");
            }
        }
        ModelReport.Tensor input = report.inputs().stream().filter(t -> t.name().equals(spec.inputName())).findFirst()
                .orElseThrow(() -> new IllegalArgumentException(file + " has no input '" + spec.inputName() + "'"));
        declared = new long[input.rank()];
        for (int i = 0; i < declared.length; i++) {
            declared[i] = input.fixed(i);
        }
    }

    @Override
    public NDList processInput(TranslatorContext ctx, double[][] window) {
        float[][] rows = OnnxForecaster.tail(spec, window);
        float[] flat = new float[rows.length * spec.featureCount()];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(rows[r], 0, flat, r * spec.featureCount(), spec.featureCount());
        }
        // One window: batch-first [1, steps, features] and time-major [steps, 1, features] hold the same values in order.
        long[] shape = spec.timeMajor() ? new long[] {rows.length, 1, spec.featureCount()}
                : new long[] {1, rows.length, spec.featureCount()};
        TensorCheck.shape(spec.inputName(), shape, declared);
        NDArray x = ctx.getNDManager().create(flat, new Shape(shape));
        x.setName(spec.inputName());
        return new NDList(x);
    }

    @Override
    public double[] processOutput(TranslatorContext ctx, NDList list) {
        NDArray y = list.size() == 1 ? list.get(0) : list.get(spec.outputName());
        float[] f = y.toFloatArray();
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = f[i];
        }
        return out;
    }

    /**
     * None: DJL's ONNX Runtime NDArrays cannot stack, so each window is its own batch of one ({@code batchPredict}
     * runs them in turn). Servers that need batching use lstmcast's own batcher.
     */
    @Override
    public Batchifier getBatchifier() {
        return null;
    }

    /** The ONNX file of a model directory ({@code model.onnx}, or its only {@code .onnx} file), or the file itself. */
    static Path modelFile(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            return path;
        }
        Path standard = path.resolve("model.onnx");
        if (Files.isRegularFile(standard)) {
            return standard;
        }
        try (Stream<Path> files = Files.list(path)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".onnx")).findFirst()
                    .orElseThrow(() -> new IOException(path + ": no .onnx file"));
        }
    }
}
