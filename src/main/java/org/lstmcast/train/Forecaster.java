package org.lstmcast.train;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Windows;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A DL4J network with the preprocessing it was trained with: raw windows in, forecasts in original units out. */
public final class Forecaster {
    private static final int CHUNK = 1024;

    private final MultiLayerNetwork network;
    private final Preprocessor preprocessor;

    public Forecaster(MultiLayerNetwork network, Preprocessor preprocessor) {
        this.network = network;
        this.preprocessor = preprocessor;
    }

    public MultiLayerNetwork network() {
        return network;
    }

    public Preprocessor preprocessor() {
        return preprocessor;
    }

    /** The network's raw (scaled) outputs for windows of raw rows, {@code [windows][horizon]}. */
    public float[][] networkOutput(List<double[][]> windows) {
        float[][] out = new float[windows.size()][];
        for (int from = 0; from < windows.size(); from += CHUNK) {
            int to = Math.min(windows.size(), from + CHUNK);
            float[][][] inputs = new float[to - from][][];
            for (int i = from; i < to; i++) {
                inputs[i - from] = preprocessor.input(windows.get(i));
            }
            INDArray x = Nd4j.create(Windows.toNcw(inputs),
                    new long[] {inputs.length, preprocessor.features(), preprocessor.steps()}, 'c');
            INDArray y = network.output(x, false);
            for (int i = from; i < to; i++) {
                out[i] = y.getRow(i - from).toFloatVector();
            }
        }
        return out;
    }

    /** Forecasts in original units, {@code [windows][horizon]}; each window is at least {@code lookback} rows. */
    public double[][] forecast(List<double[][]> windows) {
        float[][] raw = networkOutput(windows);
        double[][] out = new double[windows.size()][];
        for (int i = 0; i < out.length; i++) {
            out[i] = preprocessor.rebuild(windows.get(i), raw[i]);
        }
        return out;
    }
}
