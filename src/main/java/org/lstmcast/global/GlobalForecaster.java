package org.lstmcast.global;

import java.util.List;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A global model in Java: the DL4J networks of an ensemble and the {@link Normaliser} they were trained with. Any
 * series' history in, its forecasts in its own units out; the exported graph is proven equal to this.
 */
public final class GlobalForecaster {
    private static final int CHUNK = 1024;

    private final List<MultiLayerNetwork> networks;
    private final Normaliser normaliser;

    public GlobalForecaster(List<MultiLayerNetwork> networks, Normaliser normaliser) {
        if (networks.isEmpty()) {
            throw new IllegalArgumentException("a global model needs at least one network");
        }
        this.networks = List.copyOf(networks);
        this.normaliser = normaliser;
    }

    public List<MultiLayerNetwork> networks() {
        return networks;
    }

    public Normaliser normaliser() {
        return normaliser;
    }

    /** Forecasts for each history (at least one value; only the last {@code lookback} are read). */
    public double[][] forecast(List<double[]> histories) {
        return forecast(histories, false);
    }

    /**
     * Theta's forecast alone, the model's statistical member: Theta on the seasonally adjusted window, with the
     * profile put back.
     */
    public double[][] theta(List<double[]> histories) {
        return forecast(histories, true);
    }

    private double[][] forecast(List<double[]> histories, boolean anchorOnly) {
        int l = normaliser.steps();
        int h = normaliser.horizon();
        double[][] out = new double[histories.size()][];
        for (int from = 0; from < histories.size(); from += CHUNK) {
            int to = Math.min(histories.size(), from + CHUNK);
            Normaliser.Window[] windows = new Normaliser.Window[to - from];
            float[] x = new float[(to - from) * Normaliser.FEATURES * l];
            for (int i = from; i < to; i++) {
                Normaliser.Window w = normaliser.window(histories.get(i));
                windows[i - from] = w;
                for (int f = 0; f < Normaliser.FEATURES; f++) {
                    System.arraycopy(w.input()[f], 0, x, ((i - from) * Normaliser.FEATURES + f) * l, l);
                }
            }
            float[][] mean = anchorOnly ? null : new float[to - from][h];
            if (!anchorOnly) {
                INDArray input = Nd4j.create(x, new long[] {to - from, Normaliser.FEATURES, l}, 'c');
                for (MultiLayerNetwork net : networks) {
                    INDArray output = net.output(input, false);
                    float[][] y = output.toFloatMatrix();
                    if (output.closeable()) {
                        output.close();
                    }
                    for (int i = 0; i < y.length; i++) {
                        for (int j = 0; j < h; j++) {
                            mean[i][j] += y[i][j];
                        }
                    }
                }
                input.close();
                if (networks.size() > 1) {
                    for (float[] row : mean) {
                        for (int j = 0; j < h; j++) {
                            row[j] /= networks.size();
                        }
                    }
                }
            }
            for (int i = from; i < to; i++) {
                out[i] = normaliser.forecast(windows[i - from], anchorOnly ? null : mean[i - from]);
            }
        }
        return out;
    }
}
