package org.lstmcast.model;

import java.util.ArrayList;
import java.util.List;

import ai.onnx.proto.OnnxMl.AttributeProto;

/**
 * Writes a {@link Network} as ONNX nodes: one {@code LSTM}/{@code GRU}/{@code RNN} node (layout 0, time-major
 * inside, batch-major between layers) per recurrent layer, {@code MatMul} for dense layers, plain ops for the rest.
 */
public final class NetworkWriter {
    /** ONNX LSTM block b takes Keras block LSTM_ORDER[b]: Keras stores i, f, c, o and ONNX wants i, o, f, c. */
    private static final int[] LSTM_ORDER = {0, 3, 1, 2};
    /** GRU (z, r, h) and RNN share the gate order with ONNX. */
    private static final int[] SAME_ORDER = {0, 1, 2};

    private final GraphBuilder g;
    private int rank = 3;

    private NetworkWriter(GraphBuilder g) {
        this.g = g;
    }

    /** Writes the layers after {@code input} ({@code [batch, time, features]}) and returns the output's name. */
    public static String write(GraphBuilder g, Network net, String input) {
        NetworkWriter w = new NetworkWriter(g);
        String x = input;
        List<Layer> layers = net.layers();
        for (int k = 0; k < layers.size(); k++) {
            Layer layer = layers.get(k);
            if (layer instanceof Layer.Masking m) {
                Layer next = k + 1 < layers.size() ? layers.get(k + 1) : null;
                if (!(next instanceof Layer.Recurrent r) || r.returnSequences() || r.goBackwards()) {
                    throw new ConversionException("Masking is converted only right before a forward recurrent layer that "
                            + "returns its last output: ONNX recurrent ops can skip masked steps only through sequence lengths");
                }
                x = w.maskedRecurrent(r, x, m.value());
                k++;
                continue;
            }
            x = w.layer(layer, x);
        }
        return x;
    }

    private String layer(Layer layer, String x) {
        if (layer instanceof Layer.Recurrent r) {
            return recurrent(List.of(r), x, null, null);
        } else if (layer instanceof Layer.Bidirectional b) {
            return recurrent(List.of(b.forward(), b.backward()), x, b.merge(), null);
        } else if (layer instanceof Layer.Dense d) {
            if (rank == 2 && d.bias() != null) {
                // One Gemm, as torch.onnx writes a Linear layer on [batch, features].
                String w = g.floats(g.fresh("dense_W"), flat(d.kernel()), d.kernel().length, d.kernel()[0].length);
                return activation(d.activation(), g.node("Gemm", x, w, g.floats(g.fresh("dense_b"), d.bias(), d.bias().length)));
            }
            String y = g.node("MatMul", x, g.floats(g.fresh("dense_W"), flat(d.kernel()), d.kernel().length, d.kernel()[0].length));
            if (d.bias() != null) {
                y = g.node("Add", y, g.floats(g.fresh("dense_b"), d.bias(), d.bias().length));
            }
            return activation(d.activation(), y);
        } else if (layer instanceof Layer.Act a) {
            return activation(a.activation(), x);
        } else if (layer instanceof Layer.Flatten) {
            rank = 2;
            return g.node("Flatten", List.of(x), List.of(GraphBuilder.attr("axis", 1L)), g.fresh("flatten"));
        } else if (layer instanceof Layer.Reshape r) {
            long[] shape = new long[r.target().length + 1];
            for (int i = 0; i < r.target().length; i++) {
                shape[i + 1] = r.target()[i];
            }
            rank = shape.length;
            return g.node("Reshape", x, g.longs(shape));
        } else if (layer instanceof Layer.RepeatVector rv) {
            rank = 3;
            return g.node("Tile", g.node("Unsqueeze", x, g.longs(1)), g.longs(1, rv.times(), 1));
        }
        throw new IllegalStateException("a Masking layer is written with the layer it masks");
    }

    /** {@code directions} holds one layer, or the forward and backward halves of a bidirectional one. */
    private String recurrent(List<Layer.Recurrent> directions, String x, Layer.Merge merge, String sequenceLens) {
        if (rank != 3) {
            throw new ConversionException("a recurrent layer needs [batch, time, features] input, but the layer before it "
                    + "gives rank " + rank + " (add a Reshape or RepeatVector before it)");
        }
        Layer.Recurrent first = directions.get(0);
        int d = directions.size();
        int h = first.units();
        int gates = first.cell().gates;
        int[] order = first.cell() == Layer.Cell.LSTM ? LSTM_ORDER : SAME_ORDER;
        int in = first.inputSize();
        float[] w = new float[d * gates * h * in];
        float[] r = new float[d * gates * h * h];
        float[] b = new float[d * 2 * gates * h];
        for (int k = 0; k < d; k++) {
            Layer.Recurrent dir = directions.get(k);
            for (int blk = 0; blk < gates; blk++) {
                int src = order[blk] * h;
                for (int j = 0; j < h; j++) {
                    int row = blk * h + j;
                    for (int i = 0; i < in; i++) {
                        w[(k * gates * h + row) * in + i] = dir.kernel()[i][src + j];
                    }
                    for (int i = 0; i < h; i++) {
                        r[(k * gates * h + row) * h + i] = dir.recurrentKernel()[i][src + j];
                    }
                    b[k * 2 * gates * h + row] = dir.bias()[src + j];
                    b[k * 2 * gates * h + gates * h + row] = dir.recurrentBias()[src + j];
                }
            }
        }
        String op = switch (first.cell()) {
            case LSTM -> "LSTM";
            case GRU -> "GRU";
            case RNN -> "RNN";
        };
        List<Activation> functions = new ArrayList<>();
        for (int k = 0; k < d; k++) {
            switch (first.cell()) {
                case LSTM -> functions.addAll(List.of(first.recurrentActivation(), first.activation(), first.activation()));
                case GRU -> functions.addAll(List.of(first.recurrentActivation(), first.activation()));
                case RNN -> functions.add(first.activation());
            }
        }
        List<AttributeProto> attrs = new ArrayList<>();
        attrs.add(GraphBuilder.attr("hidden_size", (long) h));
        attrs.add(GraphBuilder.attr("direction", d == 2 ? "bidirectional" : first.goBackwards() ? "reverse" : "forward"));
        attrs.add(GraphBuilder.attr("activations", functions.stream().map(a -> a.recurrentName).toList()));
        List<Float> alphas = new ArrayList<>();
        List<Float> betas = new ArrayList<>();
        Activation.recurrentParameters(functions, alphas, betas);
        if (!alphas.isEmpty()) {
            attrs.add(GraphBuilder.floats("activation_alpha", alphas));
        }
        if (!betas.isEmpty()) {
            attrs.add(GraphBuilder.floats("activation_beta", betas));
        }
        if (first.cell() == Layer.Cell.GRU) {
            attrs.add(GraphBuilder.attr("linear_before_reset", first.resetAfter() ? 1L : 0L));
        }
        String xt = g.node("Transpose", List.of(x), List.of(GraphBuilder.attr("perm", 1L, 0L, 2L)), g.fresh("time_major"));
        List<String> inputs = new ArrayList<>(List.of(xt,
                g.floats(g.fresh(op + "_W"), w, d, (long) gates * h, in),
                g.floats(g.fresh(op + "_R"), r, d, (long) gates * h, h),
                g.floats(g.fresh(op + "_B"), b, d, 2L * gates * h)));
        if (sequenceLens != null) {
            inputs.add(sequenceLens);
        }
        List<String> outs = g.node(op, inputs, attrs, List.of(g.fresh("Y"), g.fresh("Y_h")));
        if (first.returnSequences()) {
            // Y is [time, directions, batch, hidden], every direction in time order.
            String y = outs.get(0);
            if (d == 1 && first.goBackwards()) {
                // Keras returns a go_backwards sequence in processing order, ONNX in time order.
                y = g.node("Slice", y, g.longs(-1), g.longs(Long.MIN_VALUE), g.longs(0), g.longs(-1));
            }
            String bt = g.node("Transpose", List.of(y), List.of(GraphBuilder.attr("perm", 2L, 0L, 1L, 3L)), g.fresh("seq"));
            return merge(bt, d, merge, 2);
        }
        String last = g.node("Transpose", List.of(outs.get(1)), List.of(GraphBuilder.attr("perm", 1L, 0L, 2L)), g.fresh("last"));
        rank = 2;
        return merge(last, d, merge, 1);
    }

    /** Folds the direction axis: {@code [.., directions, hidden]} → {@code [.., hidden or 2 * hidden]}. */
    private String merge(String v, int directions, Layer.Merge mode, int axis) {
        if (directions == 1) {
            return g.node("Squeeze", v, g.longs(axis));
        }
        if (mode == Layer.Merge.CONCAT) {
            long[] shape = axis == 2 ? new long[] {0, 0, -1} : new long[] {0, -1};
            return g.node("Reshape", v, g.longs(shape));
        }
        String fwd = g.node("Squeeze", g.slice(v, new long[] {0}, new long[] {1}, new long[] {axis}), g.longs(axis));
        String bwd = g.node("Squeeze", g.slice(v, new long[] {1}, new long[] {2}, new long[] {axis}), g.longs(axis));
        return switch (mode) {
            case SUM -> g.node("Add", fwd, bwd);
            case MUL -> g.node("Mul", fwd, bwd);
            case AVE -> g.node("Mul", g.node("Add", fwd, bwd), g.floats(g.fresh("half"), new float[] {0.5f}, 1));
            case CONCAT -> throw new IllegalStateException();
        };
    }

    /**
     * Keras skips masked steps wherever they are; ONNX skips only trailing ones. So the unmasked steps of each row are
     * moved to the front, in order (a stable sort on "masked, then time"), and their count becomes sequence_lens.
     */
    private String maskedRecurrent(Layer.Recurrent r, String x, double maskValue) {
        String value = g.floats(g.fresh("mask_value"), new float[] {(float) maskValue}, 1);
        String real = g.node("Cast", List.of(g.node("Not", g.node("Equal", x, value))),
                List.of(GraphBuilder.attr("to", 1L)), g.fresh("real"));
        String step = g.node("ReduceMax", List.of(real), List.of(GraphBuilder.attr("axes", new long[] {2}), GraphBuilder.attr("keepdims", 0L)),
                g.fresh("step_real"));
        String steps = g.node("Gather", List.of(g.node("Shape", x), g.longs(g.fresh("one_idx"), new long[] {1})),
                List.of(GraphBuilder.attr("axis", 0L)), g.fresh("steps"));
        String time = g.node("Cast", List.of(g.node("Range", List.of(g.longs(g.fresh("zero"), new long[] {0}, new long[0]),
                        g.node("Squeeze", steps), g.longs(g.fresh("one"), new long[] {1}, new long[0])), List.of(), g.fresh("t"))),
                List.of(GraphBuilder.attr("to", 1L)), g.fresh("time"));
        String key = g.node("Add", g.node("Mul", g.node("Sub", g.floats(g.fresh("one_f"), new float[] {1f}, 1), step),
                g.floats(g.fresh("big"), new float[] {1e6f}, 1)), time);
        List<String> top = g.node("TopK", List.of(key, g.node("Unsqueeze", g.node("Squeeze", steps), g.longs(0))),
                List.of(GraphBuilder.attr("axis", 1L), GraphBuilder.attr("largest", 0L), GraphBuilder.attr("sorted", 1L)),
                List.of(g.fresh("sorted"), g.fresh("order")));
        String index = g.node("Expand", g.node("Unsqueeze", top.get(1), g.longs(2)), g.node("Shape", x));
        String packed = g.node("GatherElements", List.of(x, index), List.of(GraphBuilder.attr("axis", 1L)), g.fresh("packed"));
        String count = g.node("ReduceSum", List.of(step, g.longs(1)), List.of(GraphBuilder.attr("keepdims", 0L)), g.fresh("count"));
        // A row with no real step gives zeros in Keras; ONNX wants at least one step, so run one and zero it after.
        String lens = g.node("Cast", List.of(g.node("Max", count, g.floats(g.fresh("one_f"), new float[] {1f}, 1))),
                List.of(GraphBuilder.attr("to", 6L)), g.fresh("lens"));
        String y = recurrent(List.of(r), packed, null, lens);
        String any = g.node("Unsqueeze", g.node("Min", count, g.floats(g.fresh("one_f"), new float[] {1f}, 1)), g.longs(1));
        return g.node("Mul", y, any);
    }

    private String activation(Activation a, String x) {
        return switch (a) {
            case LINEAR -> x;
            case TANH -> g.node("Tanh", x);
            case SIGMOID -> g.node("Sigmoid", x);
            case RELU -> g.node("Relu", x);
            case SOFTSIGN -> g.node("Softsign", x);
            case SOFTPLUS -> g.node("Softplus", x);
            case EXPONENTIAL -> g.node("Exp", x);
            case SELU -> g.node("Selu", x);
            case ELU -> g.node("Elu", List.of(x), List.of(GraphBuilder.attr("alpha", 1.0f)), g.fresh("elu"));
            case HARD_SIGMOID, HARD_SIGMOID_K3 -> g.node("HardSigmoid", List.of(x),
                    List.of(GraphBuilder.attr("alpha", (float) a.alpha), GraphBuilder.attr("beta", (float) a.beta)), g.fresh("hard_sigmoid"));
            case SOFTMAX -> g.node("Softmax", List.of(x), List.of(GraphBuilder.attr("axis", -1L)), g.fresh("softmax"));
            case SWISH -> g.node("Mul", x, g.node("Sigmoid", x));
        };
    }

    private static float[] flat(float[][] m) {
        float[] out = new float[m.length * m[0].length];
        for (int i = 0; i < m.length; i++) {
            System.arraycopy(m[i], 0, out, i * m[0].length, m[0].length);
        }
        return out;
    }
}
