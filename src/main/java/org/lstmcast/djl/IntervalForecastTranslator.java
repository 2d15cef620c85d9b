package org.lstmcast.djl;

import java.io.IOException;
import java.nio.file.Path;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.translate.Batchifier;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.onnx.OnnxInspector;

/**
 * {@link ForecastTranslator} with the calibrated prediction intervals an lstmcast export carries: the window is fed
 * the same way, and the answer holds the graph's own {@value Intervals#LOWER} and {@value Intervals#UPPER} outputs
 * beside the forecast.
 */
public final class IntervalForecastTranslator implements Translator<double[][], IntervalForecastTranslator.Forecast> {
    /**
     * One window's forecast with its intervals.
     *
     * @param levels coverage levels in percent, as the model was calibrated
     * @param lower  {@code lower[step][level]}
     * @param upper  {@code upper[step][level]}
     */
    public record Forecast(double[] forecast, int[] levels, double[][] lower, double[][] upper) {
    }

    private final ForecastTranslator inner = new ForecastTranslator();
    private int[] levels;

    @Override
    public void prepare(TranslatorContext ctx) throws IOException {
        inner.prepare(ctx);
        Path file = ForecastTranslator.modelFile(ctx.getModel().getModelPath());
        Intervals intervals = Intervals.fromMetadata(OnnxInspector.inspect(file, false).metadata());
        if (intervals == null) {
            throw new IllegalArgumentException(file + " carries no calibrated prediction intervals; retrain and export it "
                    + "with this lstmcast, or use ForecastTranslator for the forecasts alone");
        }
        levels = intervals.levels();
    }

    @Override
    public NDList processInput(TranslatorContext ctx, double[][] window) {
        return inner.processInput(ctx, window);
    }

    @Override
    public Forecast processOutput(TranslatorContext ctx, NDList list) {
        double[] forecast = inner.processOutput(ctx, new NDList(list.get(ForecastSpec.OUTPUT)));
        return new Forecast(forecast, levels.clone(), byStep(list.get(Intervals.LOWER), forecast.length),
                byStep(list.get(Intervals.UPPER), forecast.length));
    }

    /** A {@code [1, horizon, levels]} output as {@code [horizon][levels]}. */
    private double[][] byStep(NDArray bound, int horizon) {
        float[] flat = bound.toFloatArray();
        double[][] out = new double[horizon][levels.length];
        for (int h = 0; h < horizon; h++) {
            for (int l = 0; l < levels.length; l++) {
                out[h][l] = flat[h * levels.length + l];
            }
        }
        return out;
    }

    /** None, as {@link ForecastTranslator}'s: each window is its own batch of one. */
    @Override
    public Batchifier getBatchifier() {
        return null;
    }
}
