package org.lstmcast.train;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Windows;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * DL4J networks with the preprocessing they were trained with: raw windows in, forecasts in original units out. With
 * more than one network (an ensemble) the scaled outputs are averaged before the levels are rebuilt; the rebuilding
 * is linear in them, so this is also the mean of the members' forecasts.
 */
public final class Forecaster {
    private static final int CHUNK = 1024;

    private final List<MultiLayerNetwork> networks;
    private final Preprocessor preprocessor;

    public Forecaster(MultiLayerNetwork network, Preprocessor preprocessor) {
        this(List.of(network), preprocessor);
    }

    public Forecaster(List<MultiLayerNetwork> networks, Preprocessor preprocessor) {
        if (networks.isEmpty()) {
            throw new IllegalArgumentException("a forecaster needs at least one network");
        }
        this.networks = List.copyOf(networks);
        this.preprocessor = preprocessor;
    }

    /** The first member: the whole model when there is one network. */
    public MultiLayerNetwork network() {
        return networks.get(0);
    }

    /** Every member, the first one first. */
    public List<MultiLayerNetwork> networks() {
        return networks;
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
            float[][] sum = null;
            for (MultiLayerNetwork network : networks) {
                float[][] y = network.output(x, false).toFloatMatrix();
                if (sum == null) {
                    sum = y;
                } else {
                    for (int i = 0; i < y.length; i++) {
                        for (int h = 0; h < y[i].length; h++) {
                            sum[i][h] += y[i][h];
                        }
                    }
                }
            }
            for (int i = from; i < to; i++) {
                float[] row = sum[i - from];
                if (networks.size() > 1) {
                    for (int h = 0; h < row.length; h++) {
                        row[h] /= networks.size();
                    }
                }
                out[i] = row;
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
