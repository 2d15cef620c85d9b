package org.lstmcast.train;

import java.io.OutputStream;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

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
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.GradientUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * The networks of {@link Networks} as one SameDiff graph built on libnd4j's fused {@code lstmLayer} op, used to train
 * them.
 *
 * <p>DL4J's LSTM layer issues a few dozen small native ops per time step in each direction, and on small networks
 * the per-op call cost dominates: a batch of 32 thirty-step windows takes ~60 ms. The fused op runs a whole sequence
 * in one call and trains the same network about three times faster. Weights move both ways between this graph and
 * the DL4J networks (the gate blocks are ordered differently), so the DL4J network stays the model that is saved,
 * evaluated and exported, and starts from DL4J's own initialisation. The update rule matches DL4J's configuration:
 * gradients clipped to L2 norm 1 per layer, then Adam; dropout is inverted dropout on each layer's input after the
 * first and on the head's input, as DL4J applies it.
 *
 * <p><b>Members.</b> K networks of the same shape (an ensemble's members, which differ by seed) train as one wider
 * network: each layer's units are the members' units side by side, every weight matrix is block-diagonal (member m's
 * inputs reach only member m's gates, its units only its own gates and its own outputs), and each member reads its
 * own windows from its own slice of the input features. The off-diagonal blocks start at zero and their gradients are
 * zeroed before every update, so they stay zero: the members never see each other, and each trains exactly as it
 * would alone (the loss is the sum of the members' mean squared errors, clipping is per member and layer, Adam works
 * element by element), up to the order in which floating-point sums are taken. Per step, the native ops run once for
 * all members rather than once per member, and on small networks those per-op costs are most of the time.
 */
final class FusedLstm {
    /** libnd4j's gate blocks are input, forget, cell, output; DL4J's are cell, forget, output, input. */
    private static final int[] DL4J_BLOCK_OF_FUSED = {3, 1, 0, 2};
    private static final double CLIP_L2 = 1.0;
    /** The rows argument of the gate-matrix helpers for a bias, whose one row all members share. */
    private static final int BIAS = 0;

    private final SameDiff sd = SameDiff.create();
    private final int members;
    private final int layers;
    private final int hidden;
    private final int steps;
    private final int features;
    private final int horizon;
    private final double dropout;
    /** Parameter names grouped per DL4J layer, for per-layer clipping; the head is the last group. */
    private final List<List<String>> groups = new ArrayList<>();
    private final List<String> params = new ArrayList<>();
    private final Map<String, GradientUpdater> updaters = new HashMap<>();
    /** With several members: per parameter, 1 on the members' own blocks and 0 elsewhere. */
    private final Map<String, INDArray> ownBlocks = new HashMap<>();
    /** With several members: per parameter, the member each column (each element of a vector) belongs to. */
    private final Map<String, int[]> memberOfColumn = new HashMap<>();
    /** Each member's dropout masks come from its own stream, so a member draws the same masks alone or beside others. */
    private final Random[] dropoutRandom;
    private int iteration;

    /** One network, trained alone. */
    FusedLstm(TrainConfig config, MultiLayerNetwork init, int steps) {
        this(config, List.of(init), List.of(config.seed()), steps);
    }

    /**
     * Networks of one shape trained side by side, each starting from its own initial weights.
     *
     * @param seeds each member's seed, for its dropout masks
     */
    FusedLstm(TrainConfig config, List<MultiLayerNetwork> inits, List<Long> seeds, int steps) {
        this.members = inits.size();
        this.layers = config.layers();
        this.hidden = config.hidden();
        this.steps = steps;
        this.horizon = config.horizon();
        this.dropout = config.dropout();
        this.features = (int) inits.get(0).getLayer(0).getParam("W").size(0);
        this.dropoutRandom = new Random[members];
        for (int m = 0; m < members; m++) {
            dropoutRandom[m] = new Random(~seeds.get(m));
        }
        int k = members;
        SDVariable h = sd.placeHolder("x", DataType.FLOAT, -1, steps, (long) k * features);
        SDVariable y = sd.placeHolder("y", DataType.FLOAT, -1, (long) k * horizon);
        for (int l = 0; l < layers; l++) {
            final int layer = l;
            if (l > 0 && dropout > 0) {
                h = h.mul(sd.placeHolder(mask(l), DataType.FLOAT, -1, steps, (long) k * hidden));
            }
            int in = l == 0 ? features : hidden;
            LSTMLayerWeights weights = LSTMLayerWeights.builder()
                    .weights(sd.var("wx" + l, gateMatrix(inits, in, net -> net.getLayer(layer).getParam("W"))))
                    .rWeights(sd.var("wr" + l, gateMatrix(inits, hidden, net -> net.getLayer(layer).getParam("RW"))))
                    .bias(sd.var("b" + l, gateMatrix(inits, BIAS, net -> net.getLayer(layer).getParam("b"))
                            .reshape(4L * k * hidden)))
                    .build();
            boolean last = l == layers - 1;
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
            groups.add(List.of("wx" + l, "wr" + l, "b" + l));
            if (k > 1) {
                ownBlocks.put("wx" + l, gateMask(in));
                ownBlocks.put("wr" + l, gateMask(hidden));
                memberOfColumn.put("wx" + l, gateColumns());
                memberOfColumn.put("wr" + l, gateColumns());
                memberOfColumn.put("b" + l, gateColumns());
            }
        }
        if (dropout > 0) {
            h = h.mul(sd.placeHolder(mask(layers), DataType.FLOAT, -1, (long) k * hidden));
        }
        INDArray headW = Nd4j.zeros(DataType.FLOAT, (long) k * hidden, (long) k * horizon);
        INDArray headB = Nd4j.zeros(DataType.FLOAT, (long) k * horizon);
        for (int m = 0; m < k; m++) {
            Layer head = inits.get(m).getLayer(layers);
            headW.get(range(m, hidden), range(m, horizon)).assign(head.getParam("W"));
            headB.get(range(m, horizon)).assign(head.getParam("b").reshape(-1));
        }
        SDVariable out = h.mmul(sd.var("w", headW)).add("out", sd.var("bo", headB));
        if (k == 1) {
            sd.loss().meanSquaredError("loss", y, out, null);
        } else {
            // The mean over all members' outputs weighted by K: the sum of the members' own mean squared errors, so
            // each member's gradients are those it would get alone.
            sd.loss().meanSquaredError("loss", y, out, sd.constant(Nd4j.scalar(DataType.FLOAT, (float) k)));
            out.sub(y).pow(2).reshape(-1, k, horizon).mean("memberLoss", 0, 2);
            INDArray headMask = Nd4j.zeros(DataType.FLOAT, (long) k * hidden, (long) k * horizon);
            for (int m = 0; m < k; m++) {
                headMask.get(range(m, hidden), range(m, horizon)).assign(1);
            }
            ownBlocks.put("w", headMask);
            memberOfColumn.put("w", blockColumns(horizon));
            memberOfColumn.put("bo", blockColumns(horizon));
        }
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

    int members() {
        return members;
    }

    /**
     * One step of training on a batch; returns each member's loss on the batch before the step.
     *
     * @param x {@code [batch, steps, members * features]}: member m's windows in features {@code [m * F, (m + 1) * F)}
     * @param y {@code [batch, members * horizon]}, member m's targets in the same way
     */
    double[] fit(INDArray x, INDArray y) {
        OutAndGrad result = sd.calculateGradientsAndOutputs(feed(x, y, true),
                List.of(members == 1 ? "loss" : "memberLoss"), params);
        Map<String, INDArray> grads = result.getGradients();
        for (List<String> group : groups) {
            double[] scale = members == 1 ? clipAlone(group, grads) : clipMembers(group, grads);
            for (String name : group) {
                INDArray g = grads.get(name);
                if (scale != null) {
                    scaleColumns(name, g, scale);
                }
                updaters.get(name).applyUpdater(g, iteration, 0);
                sd.getArrForVarName(name).subi(g);
            }
        }
        iteration++;
        return losses(result.getOutputs());
    }

    /** The one network's clipping factor for a layer, or null where its gradient's norm is within the limit. */
    private static double[] clipAlone(List<String> group, Map<String, INDArray> grads) {
        double sq = 0;
        for (String name : group) {
            sq += Math.pow(grads.get(name).norm2Number().doubleValue(), 2);
        }
        double norm = Math.sqrt(sq);
        return norm > CLIP_L2 ? new double[] {CLIP_L2 / norm} : null;
    }

    /**
     * Zeroes the gradients that cross members, then returns each member's clipping factor for the layer (1 within the
     * limit), or null where no member's gradient needs clipping.
     */
    private double[] clipMembers(List<String> group, Map<String, INDArray> grads) {
        double[] sq = new double[members];
        for (String name : group) {
            INDArray g = grads.get(name);
            INDArray own = ownBlocks.get(name);
            if (own != null) {
                g.muli(own);
            }
            float[] columns = (g.rank() == 1 ? g.mul(g) : g.mul(g).sum(0)).toFloatVector();
            int[] member = memberOfColumn.get(name);
            for (int c = 0; c < columns.length; c++) {
                sq[member[c]] += columns[c];
            }
        }
        double[] scale = new double[members];
        boolean any = false;
        for (int m = 0; m < members; m++) {
            double norm = Math.sqrt(sq[m]);
            scale[m] = norm > CLIP_L2 ? CLIP_L2 / norm : 1;
            any |= norm > CLIP_L2;
        }
        return any ? scale : null;
    }

    private void scaleColumns(String name, INDArray g, double[] scale) {
        if (members == 1) {
            g.muli(scale[0]);
            return;
        }
        int[] member = memberOfColumn.get(name);
        float[] factor = new float[member.length];
        for (int c = 0; c < factor.length; c++) {
            factor[c] = (float) scale[member[c]];
        }
        INDArray row = Nd4j.create(factor, new long[] {factor.length}, 'c');
        if (g.rank() == 1) {
            g.muli(row);
        } else {
            g.muliRowVector(row);
        }
    }

    /** Each member's mean squared error on a set of windows, dropout off. */
    double[] loss(INDArray x, INDArray y) {
        return losses(sd.output(feed(x, y, false), members == 1 ? "loss" : "memberLoss"));
    }

    private double[] losses(Map<String, INDArray> outputs) {
        return members == 1 ? new double[] {outputs.get("loss").getDouble(0)}
                : outputs.get("memberLoss").toDoubleVector();
    }

    /** The members' outputs for {@code x}, {@code [batch, members * horizon]}, dropout off. */
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

    /** Writes the one network's parameters into a network built by {@link Networks} with the same config. */
    void copyTo(MultiLayerNetwork net) {
        copyTo(0, snapshot(), net);
    }

    /** Writes member {@code m}'s parameters, as held in {@code snapshot}, into a network built by {@link Networks}. */
    void copyTo(int m, Map<String, INDArray> snapshot, MultiLayerNetwork net) {
        for (int l = 0; l < layers; l++) {
            Layer layer = net.getLayer(l);
            int in = l == 0 ? features : hidden;
            layer.setParam("W", memberGates(snapshot.get("wx" + l), m, in));
            layer.setParam("RW", memberGates(snapshot.get("wr" + l), m, hidden));
            layer.setParam("b", memberGates(snapshot.get("b" + l).reshape(1, 4L * members * hidden), m, BIAS));
        }
        Layer head = net.getLayer(layers);
        head.setParam("W", snapshot.get("w").get(range(m, hidden), range(m, horizon)).dup());
        head.setParam("b", snapshot.get("bo").get(range(m, horizon)).reshape(1, horizon).dup());
    }

    private Map<String, INDArray> feed(INDArray x, INDArray y, boolean training) {
        Map<String, INDArray> feed = new HashMap<>();
        feed.put("x", x);
        if (y != null) {
            feed.put("y", y);
        }
        if (dropout > 0) {
            int batch = (int) x.size(0);
            for (int l = 1; l <= layers; l++) {
                int rows = l < layers ? batch * steps : batch;
                long[] shape = l < layers ? new long[] {batch, steps, (long) members * hidden}
                        : new long[] {batch, (long) members * hidden};
                feed.put(mask(l), training ? dropoutMask(rows, shape) : Nd4j.ones(DataType.FLOAT, shape));
            }
        }
        return feed;
    }

    /**
     * Inverted dropout: keep with probability 1 - p, scale kept activations by 1 / (1 - p). Member m's part of each
     * row is drawn from its own stream, row after row, as it would be alone.
     */
    private INDArray dropoutMask(int rows, long[] shape) {
        double keep = 1 - dropout;
        float kept = (float) (1 / keep);
        float[] mask = new float[rows * members * hidden];
        for (int m = 0; m < members; m++) {
            Random random = dropoutRandom[m];
            for (int r = 0; r < rows; r++) {
                int at = (r * members + m) * hidden;
                for (int j = 0; j < hidden; j++) {
                    mask[at + j] = random.nextDouble() < keep ? kept : 0f;
                }
            }
        }
        return Nd4j.create(mask, shape, 'c');
    }

    private static String mask(int k) {
        return "keep" + k;
    }

    /**
     * The members' {@code [rows, 4H]} DL4J gate matrices as one block-diagonal {@code [K * rows, 4 * K * H]} matrix in
     * libnd4j's gate order: gate block g holds member m's units in columns {@code g * K * H + m * H} on, fed by rows
     * {@code m * rows} on ({@link #BIAS} for the bias: one row shared by all members).
     */
    private INDArray gateMatrix(List<MultiLayerNetwork> nets, int rows, Function<MultiLayerNetwork, INDArray> param) {
        int k = nets.size();
        boolean bias = rows == BIAS;
        INDArray wide = Nd4j.zeros(DataType.FLOAT, bias ? 1 : (long) k * rows, 4L * k * hidden);
        for (int m = 0; m < k; m++) {
            INDArray dl4j = param.apply(nets.get(m));
            INDArray dl4jRows = dl4j.rank() == 1 ? dl4j.reshape(1, dl4j.length()) : dl4j;
            for (int g = 0; g < 4; g++) {
                int src = DL4J_BLOCK_OF_FUSED[g];
                wide.get(bias ? NDArrayIndex.all() : range(m, rows),
                                NDArrayIndex.interval(((long) g * k + m) * hidden, ((long) g * k + m + 1) * hidden))
                        .assign(dl4jRows.get(NDArrayIndex.all(),
                                NDArrayIndex.interval((long) src * hidden, (long) (src + 1) * hidden)));
            }
        }
        return wide;
    }

    /** Member m's {@code [rows, 4H]} DL4J gate matrix out of a wide one ({@link #BIAS}: the bias, one row). */
    private INDArray memberGates(INDArray wide, int m, int rows) {
        INDArray out = Nd4j.create(DataType.FLOAT, rows == BIAS ? 1 : rows, 4L * hidden);
        for (int g = 0; g < 4; g++) {
            int dst = DL4J_BLOCK_OF_FUSED[g];
            out.get(NDArrayIndex.all(), NDArrayIndex.interval((long) dst * hidden, (long) (dst + 1) * hidden))
                    .assign(wide.get(rows == BIAS ? NDArrayIndex.all() : range(m, rows),
                            NDArrayIndex.interval(((long) g * members + m) * hidden,
                                    ((long) g * members + m + 1) * hidden)));
        }
        return out;
    }

    /** 1 where a wide gate matrix with {@code rows} rows per member joins a member's rows to its own columns. */
    private INDArray gateMask(int rows) {
        INDArray mask = Nd4j.zeros(DataType.FLOAT, (long) members * rows, 4L * members * hidden);
        for (int m = 0; m < members; m++) {
            for (int g = 0; g < 4; g++) {
                mask.get(range(m, rows), NDArrayIndex.interval(((long) g * members + m) * hidden,
                        ((long) g * members + m + 1) * hidden)).assign(1);
            }
        }
        return mask;
    }

    private int[] gateColumns() {
        int[] member = new int[4 * members * hidden];
        for (int c = 0; c < member.length; c++) {
            member[c] = (c / hidden) % members;
        }
        return member;
    }

    private int[] blockColumns(int width) {
        int[] member = new int[members * width];
        for (int c = 0; c < member.length; c++) {
            member[c] = c / width;
        }
        return member;
    }

    private static INDArrayIndex range(int m, int width) {
        return NDArrayIndex.interval((long) m * width, (long) (m + 1) * width);
    }
}
