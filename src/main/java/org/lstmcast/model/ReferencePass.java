package org.lstmcast.model;

import java.util.Arrays;
import java.util.function.UnaryOperator;

/**
 * A plain-Java forward pass of a {@link Network} in double precision, written from Keras's formulas (not from the
 * ONNX mapping), so that a converted graph is checked against a second, independent reading of the same weights.
 */
public final class ReferencePass {

    /** A rank-2 value {@code [batch, features]} is held as {@code [batch][1][features]} with {@code rank == 2}. */
    public record Values(int rank, double[][][] data) {
        public int batch() {
            return data.length;
        }

        public double[] flat(int b) {
            double[][] rows = data[b];
            int width = rows.length == 0 ? 0 : rows[0].length;
            double[] out = new double[rows.length * width];
            for (int t = 0; t < rows.length; t++) {
                System.arraycopy(rows[t], 0, out, t * width, width);
            }
            return out;
        }
    }

    private ReferencePass() {
    }

    public static Values run(Network net, double[][][] input) {
        Values v = new Values(3, input);
        Layer.Masking mask = null;
        for (Layer layer : net.layers()) {
            if (layer instanceof Layer.Masking m) {
                mask = m;
                continue;
            }
            v = apply(layer, v, mask);
            mask = null;
        }
        return v;
    }

    private static Values apply(Layer layer, Values v, Layer.Masking mask) {
        if (layer instanceof Layer.Recurrent r) {
            return recurrent(r, v.data(), mask);
        } else if (layer instanceof Layer.Bidirectional b) {
            return bidirectional(b, v.data(), mask);
        } else if (layer instanceof Layer.Dense d) {
            return map(v, row -> dense(d, row));
        } else if (layer instanceof Layer.Act a) {
            return map(v, row -> {
                double[] out = row.clone();
                a.activation().applyRow(out);
                return out;
            });
        } else if (layer instanceof Layer.Flatten) {
            double[][][] out = new double[v.batch()][1][];
            for (int b = 0; b < v.batch(); b++) {
                out[b][0] = v.flat(b);
            }
            return new Values(2, out);
        } else if (layer instanceof Layer.Reshape r) {
            return reshape(v, r.target());
        } else if (layer instanceof Layer.RepeatVector rv) {
            double[][][] out = new double[v.batch()][rv.times()][];
            for (int b = 0; b < v.batch(); b++) {
                for (int t = 0; t < rv.times(); t++) {
                    out[b][t] = v.data()[b][0].clone();
                }
            }
            return new Values(3, out);
        }
        return v;
    }

    private static Values map(Values v, UnaryOperator<double[]> f) {
        double[][][] out = new double[v.batch()][][];
        for (int b = 0; b < v.batch(); b++) {
            out[b] = new double[v.data()[b].length][];
            for (int t = 0; t < out[b].length; t++) {
                out[b][t] = f.apply(v.data()[b][t]);
            }
        }
        return new Values(v.rank(), out);
    }

    private static double[] dense(Layer.Dense d, double[] x) {
        int outs = d.kernel()[0].length;
        double[] y = new double[outs];
        for (int o = 0; o < outs; o++) {
            double s = d.bias() == null ? 0 : d.bias()[o];
            for (int i = 0; i < x.length; i++) {
                s += x[i] * d.kernel()[i][o];
            }
            y[o] = s;
        }
        d.activation().applyRow(y);
        return y;
    }

    private static Values reshape(Values v, int[] target) {
        double[][][] out = new double[v.batch()][][];
        for (int b = 0; b < v.batch(); b++) {
            double[] flat = v.flat(b);
            int[] dims = resolve(target, flat.length);
            int rows = dims.length == 1 ? 1 : dims[0];
            int width = dims[dims.length - 1];
            out[b] = new double[rows][width];
            for (int t = 0; t < rows; t++) {
                System.arraycopy(flat, t * width, out[b][t], 0, width);
            }
        }
        return new Values(target.length + 1, out);
    }

    public static int[] resolve(int[] target, int size) {
        int known = 1;
        int open = -1;
        for (int i = 0; i < target.length; i++) {
            if (target[i] == -1) {
                open = i;
            } else {
                known *= target[i];
            }
        }
        int[] dims = target.clone();
        if (open >= 0) {
            dims[open] = size / known;
        }
        if (Arrays.stream(dims).reduce(1, (a, b) -> a * b) != size) {
            throw new ConversionException("Reshape" + Arrays.toString(target) + " does not fit " + size + " values");
        }
        return dims;
    }

    private static Values bidirectional(Layer.Bidirectional bi, double[][][] x, Layer.Masking mask) {
        double[][][] fwd = recurrent(bi.forward().withDirection(false, bi.forward().returnSequences()), x, mask).data();
        Values bwdValues = recurrent(bi.backward().withDirection(true, bi.backward().returnSequences()), x, mask);
        double[][][] bwd = bwdValues.data();
        boolean seq = bi.forward().returnSequences();
        double[][][] out = new double[x.length][][];
        for (int b = 0; b < x.length; b++) {
            out[b] = new double[fwd[b].length][];
            for (int t = 0; t < fwd[b].length; t++) {
                // Keras reverses the backward layer's sequence output back into time order before merging.
                double[] back = seq ? bwd[b][bwd[b].length - 1 - t] : bwd[b][t];
                out[b][t] = merge(bi.merge(), fwd[b][t], back);
            }
        }
        return new Values(seq ? 3 : 2, out);
    }

    private static double[] merge(Layer.Merge mode, double[] f, double[] g) {
        if (mode == Layer.Merge.CONCAT) {
            double[] out = Arrays.copyOf(f, f.length + g.length);
            System.arraycopy(g, 0, out, f.length, g.length);
            return out;
        }
        double[] out = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            out[i] = switch (mode) {
                case SUM -> f[i] + g[i];
                case MUL -> f[i] * g[i];
                case AVE -> (f[i] + g[i]) / 2;
                case CONCAT -> throw new IllegalStateException();
            };
        }
        return out;
    }

    /** Keras's RNN loop: masked steps keep state and repeat the last output; go_backwards runs time reversed. */
    private static Values recurrent(Layer.Recurrent r, double[][][] x, Layer.Masking mask) {
        int units = r.units();
        double[][][] out = new double[x.length][][];
        for (int b = 0; b < x.length; b++) {
            int steps = x[b].length;
            double[] h = new double[units];
            double[] c = new double[units];
            double[] last = new double[units];
            double[][] seq = new double[steps][];
            for (int k = 0; k < steps; k++) {
                double[] xt = x[b][r.goBackwards() ? steps - 1 - k : k];
                if (mask != null && masked(xt, mask.value())) {
                    seq[k] = last.clone();
                    continue;
                }
                switch (r.cell()) {
                    case LSTM -> lstmStep(r, xt, h, c);
                    case GRU -> h = gruStep(r, xt, h);
                    case RNN -> h = rnnStep(r, xt, h);
                }
                last = h.clone();
                seq[k] = last;
            }
            out[b] = r.returnSequences() ? seq : new double[][] {last};
        }
        return new Values(r.returnSequences() ? 3 : 2, out);
    }

    private static boolean masked(double[] xt, double value) {
        for (double v : xt) {
            if (v != value) {
                return false;
            }
        }
        return true;
    }

    /** {@code x K + h R + b} for gate block {@code g}, unit {@code j}. */
    private static double pre(Layer.Recurrent r, double[] x, double[] h, int g, int j, boolean withRecurrent) {
        int col = g * r.units() + j;
        double s = r.bias()[col];
        for (int i = 0; i < x.length; i++) {
            s += x[i] * r.kernel()[i][col];
        }
        if (withRecurrent) {
            s += recurrentPart(r, h, g, j);
        }
        return s;
    }

    private static double recurrentPart(Layer.Recurrent r, double[] h, int g, int j) {
        int col = g * r.units() + j;
        double s = r.recurrentBias()[col];
        for (int i = 0; i < h.length; i++) {
            s += h[i] * r.recurrentKernel()[i][col];
        }
        return s;
    }

    private static void lstmStep(Layer.Recurrent r, double[] x, double[] h, double[] c) {
        int u = r.units();
        double[] hPrev = h.clone();
        for (int j = 0; j < u; j++) {
            double i = r.recurrentActivation().apply(pre(r, x, hPrev, 0, j, true));
            double f = r.recurrentActivation().apply(pre(r, x, hPrev, 1, j, true));
            double cand = r.activation().apply(pre(r, x, hPrev, 2, j, true));
            double o = r.recurrentActivation().apply(pre(r, x, hPrev, 3, j, true));
            c[j] = f * c[j] + i * cand;
            h[j] = o * r.activation().apply(c[j]);
        }
    }

    private static double[] gruStep(Layer.Recurrent r, double[] x, double[] h) {
        int u = r.units();
        double[] z = new double[u];
        double[] reset = new double[u];
        for (int j = 0; j < u; j++) {
            z[j] = r.recurrentActivation().apply(pre(r, x, h, 0, j, true));
            reset[j] = r.recurrentActivation().apply(pre(r, x, h, 1, j, true));
        }
        double[] gated = new double[u];
        for (int i = 0; i < u; i++) {
            gated[i] = reset[i] * h[i];
        }
        double[] next = new double[u];
        for (int j = 0; j < u; j++) {
            double cand = r.resetAfter()
                    ? pre(r, x, h, 2, j, false) + reset[j] * recurrentPart(r, h, 2, j)
                    : pre(r, x, gated, 2, j, true);
            double hh = r.activation().apply(cand);
            next[j] = z[j] * h[j] + (1 - z[j]) * hh;
        }
        return next;
    }

    private static double[] rnnStep(Layer.Recurrent r, double[] x, double[] h) {
        double[] next = new double[r.units()];
        for (int j = 0; j < next.length; j++) {
            next[j] = r.activation().apply(pre(r, x, h, 0, j, true));
        }
        return next;
    }
}
