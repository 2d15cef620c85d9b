package org.lstmcast.train;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.api.OutAndGrad;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMActivations;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMDataFormat;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMDirectionMode;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.config.LSTMLayerConfig;
import org.nd4j.linalg.api.ops.impl.layers.recurrent.weights.LSTMLayerWeights;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The network of {@link Networks} as a SameDiff graph built on libnd4j's fused {@code lstmLayer} op, used to train it.
 *
 * <p>DL4J's LSTM layer issues a few dozen small native ops per time step in each direction, and on small networks
 * the per-op call cost dominates: a batch of 32 thirty-step windows takes ~60 ms. The fused op runs a whole sequence
 * in one call and trains the same network about three times faster. Weights move both ways between this graph and
 * the DL4J network (the gate blocks are ordered differently), so the DL4J network stays the model that is saved,
 * evaluated and exported, and starts from DL4J's own initialisation. The update rule matches DL4J's configuration:
 * gradients clipped to L2 norm 1 per layer, then Adam; dropout is inverted dropout on each layer's input after the
 * first and on the head's input, as DL4J applies it.
 */
final class FusedLstm {
    /** libnd4j's gate blocks are input, forget, cell, output; DL4J's are cell, forget, output, input. */
    private static final int[] DL4J_BLOCK_OF_FUSED = {3, 1, 0, 2};
    private static final double CLIP_L2 = 1.0;

    private final SameDiff sd = SameDiff.create();
    private final int layers;
    private final int hidden;
    private final int steps;
    private final double dropout;
    /** Parameter names grouped per DL4J layer, for per-layer clipping; the head is the last group. */
    private final List<List<String>> groups = new ArrayList<>();
    private final List<String> params = new ArrayList<>();
    private final Map<String, GradientUpdater> updaters = new HashMap<>();
    private int iteration;

    FusedLstm(TrainConfig config, MultiLayerNetwork init, int steps) {
        this.layers = config.layers();
        this.hidden = config.hidden();
        this.steps = steps;
        this.dropout = config.dropout();
        int features = (int) init.getLayer(0).getParam("W").size(0);
        SDVariable h = sd.placeHolder("x", DataType.FLOAT, -1, steps, features);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, config.horizon());
        for (int k = 0; k < layers; k++) {
            Layer layer = init.getLayer(k);
            if (k > 0 && dropout > 0) {
                h = h.mul(sd.placeHolder(mask(k), DataType.FLOAT, -1, steps, hidden));
            }
            LSTMLayerWeights weights = LSTMLayerWeights.builder()
                    .weights(sd.var("wx" + k, toFused(layer.getParam("W"))))
                    .rWeights(sd.var("wr" + k, toFused(layer.getParam("RW"))))
                    .bias(sd.var("b" + k, toFused(layer.getParam("b")).reshape(4L * hidden)))
                    .build();
            boolean last = k == layers - 1;
            LSTMLayerConfig cell = LSTMLayerConfig.builder()
                    .lstmdataformat(LSTMDataFormat.NTS)
                    .directionMode(LSTMDirectionMode.FWD)
                    .gateAct(LSTMActivations.SIGMOID)
                    .cellAct(LSTMActivations.TANH)
                    .outAct(LSTMActivations.TANH)
                    .retFullSequence(!last)
                    .retLastH(last)
                    .retLastC(false)
                    .build();
            h = sd.rnn().lstmLayer(h, weights, cell)[0];
            groups.add(List.of("wx" + k, "wr" + k, "b" + k));
        }
        if (dropout > 0) {
            h = h.mul(sd.placeHolder(mask(layers), DataType.FLOAT, -1, hidden));
        }
        Layer head = init.getLayer(layers);
        SDVariable out = h.mmul(sd.var("w", head.getParam("W").dup()))
                .add("out", sd.var("bo", head.getParam("b").reshape(-1).dup()));
        sd.loss().meanSquaredError("loss", y, out, null);
        sd.setLossVariables("loss");
        groups.add(List.of("w", "bo"));
        groups.forEach(params::addAll);
        buildGradients();
        Adam adam = new Adam(config.learningRate());
        for (String name : params) {
            long n = sd.getArrForVarName(name).length();
            updaters.put(name, adam.instantiate(Nd4j.zeros(DataType.FLOAT, 1, adam.stateSize(n)), true));
        }
    }

    /** Guards the swap of {@link System#out}: networks trained side by side would otherwise restore each other's. */
    private static final Object STDOUT = new Object();

    /** Builds the backward graph now, with SameDiff's line per differentiated op kept off standard output. */
    private void buildGradients() {
        synchronized (STDOUT) {
            PrintStream out = System.out;
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                sd.createGradFunction();
            } finally {
                System.setOut(out);
            }
        }
    }

    /**
     * One step of training on a batch; returns the batch's loss before the step.
     *
     * @param x {@code [batch, steps, features]}
     * @param y {@code [batch, horizon]}
     */
    double fit(INDArray x, INDArray y) {
        OutAndGrad result = sd.calculateGradientsAndOutputs(feed(x, y, true), List.of("loss"), params);
        Map<String, INDArray> grads = result.getGradients();
        for (List<String> group : groups) {
            double sq = 0;
            for (String name : group) {
                sq += Math.pow(grads.get(name).norm2Number().doubleValue(), 2);
            }
            double norm = Math.sqrt(sq);
            for (String name : group) {
                INDArray g = grads.get(name);
                if (norm > CLIP_L2) {
                    g.muli(CLIP_L2 / norm);
                }
                updaters.get(name).applyUpdater(g, iteration, 0);
                sd.getArrForVarName(name).subi(g);
            }
        }
        iteration++;
        return result.getOutputs().get("loss").getDouble(0);
    }

    /** The mean squared error on a set of windows, dropout off. */
    double loss(INDArray x, INDArray y) {
        return sd.output(feed(x, y, false), "loss").get("loss").getDouble(0);
    }

    /** The network's outputs for {@code x}, dropout off. */
    INDArray output(INDArray x) {
        Map<String, INDArray> feed = feed(x, null, false);
        return sd.output(feed, "out").get("out");
    }

    /** A copy of every parameter, to restore later with {@link #restore}. */
    Map<String, INDArray> snapshot() {
        Map<String, INDArray> copy = new LinkedHashMap<>();
        params.forEach(name -> copy.put(name, sd.getArrForVarName(name).dup()));
        return copy;
    }

    void restore(Map<String, INDArray> snapshot) {
        snapshot.forEach((name, value) -> sd.getArrForVarName(name).assign(value));
    }

    /** Writes this graph's parameters into a network built by {@link Networks} with the same config. */
    void copyTo(MultiLayerNetwork net) {
        for (int k = 0; k < layers; k++) {
            Layer layer = net.getLayer(k);
            layer.setParam("W", fromFused(sd.getArrForVarName("wx" + k)));
            layer.setParam("RW", fromFused(sd.getArrForVarName("wr" + k)));
            layer.setParam("b", fromFused(sd.getArrForVarName("b" + k).reshape(1, 4L * hidden)));
        }
        Layer head = net.getLayer(layers);
        head.setParam("W", sd.getArrForVarName("w").dup());
        head.setParam("b", sd.getArrForVarName("bo").reshape(1, -1).dup());
    }

    private Map<String, INDArray> feed(INDArray x, INDArray y, boolean training) {
        Map<String, INDArray> feed = new HashMap<>();
        feed.put("x", x);
        if (y != null) {
            feed.put("y", y);
        }
        if (dropout > 0) {
            long batch = x.size(0);
            for (int k = 1; k <= layers; k++) {
                long[] shape = k < layers ? new long[] {batch, steps, hidden} : new long[] {batch, hidden};
                feed.put(mask(k), training ? dropoutMask(shape) : Nd4j.ones(DataType.FLOAT, shape));
            }
        }
        return feed;
    }

    /** Inverted dropout: keep with probability 1 - p, scale kept activations by 1 / (1 - p). */
    private INDArray dropoutMask(long[] shape) {
        double keep = 1 - dropout;
        INDArray u = Nd4j.rand(DataType.FLOAT, shape);
        return u.lt(keep).castTo(DataType.FLOAT).divi(keep);
    }

    private static String mask(int k) {
        return "keep" + k;
    }

    /** Reorders the four gate blocks of a {@code [rows, 4H]} array from DL4J's order to libnd4j's. */
    private INDArray toFused(INDArray dl4j) {
        return permuteBlocks(dl4j, false);
    }

    private INDArray fromFused(INDArray fused) {
        return permuteBlocks(fused, true);
    }

    private INDArray permuteBlocks(INDArray a, boolean toDl4j) {
        INDArray m = a.rank() == 1 ? a.reshape(1, a.length()) : a;
        INDArray out = Nd4j.create(DataType.FLOAT, m.shape());
        for (int j = 0; j < 4; j++) {
            int src = toDl4j ? j : DL4J_BLOCK_OF_FUSED[j];
            int dst = toDl4j ? DL4J_BLOCK_OF_FUSED[j] : j;
            out.get(NDArrayIndex.all(), NDArrayIndex.interval((long) dst * hidden, (long) (dst + 1) * hidden))
                    .assign(m.get(NDArrayIndex.all(), NDArrayIndex.interval((long) src * hidden, (long) (src + 1) * hidden)));
        }
        return out;
    }
}
