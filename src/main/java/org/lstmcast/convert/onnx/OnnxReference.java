package org.lstmcast.convert.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

import ai.onnx.proto.OnnxMl;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

/**
 * A plain-Java evaluator, in double precision, for the subset of ONNX that recurrent forecasting models use. It
 * exists to prove a converted model equal to its source when ONNX Runtime cannot run the source (an {@code LSTM} with
 * {@code layout=1}): it reads both layouts itself, following the operator specification, and shares no code with
 * {@link OnnxNormalizer}, so it is a second opinion rather than the rewrite checking itself.
 *
 * <p>Slow and simple by design: every value is a flat row-major {@code double[]}. Integer tensors (shapes, axes,
 * indices) ride in the same arrays; they are exact up to 2^53.
 */
final class OnnxReference {
    /** A dense tensor, row-major. */
    record Tensor(long[] shape, double[] data) {
        Tensor {
            if (size(shape) != data.length) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " holds " + size(shape)
                        + " values, not " + data.length);
            }
        }

        static Tensor scalar(double v) {
            return new Tensor(new long[0], new double[] {v});
        }

        int rank() {
            return shape.length;
        }

        long[] longs() {
            long[] out = new long[data.length];
            for (int i = 0; i < data.length; i++) {
                out[i] = (long) data[i];
            }
            return out;
        }
    }

    private OnnxReference() {
    }

    /** Runs a model's main graph; returns its outputs by name. */
    static Map<String, Tensor> run(OnnxMl.ModelProto model, Map<String, Tensor> inputs) {
        return run(model.getGraph(), OnnxNormalizer.opset(model), inputs);
    }

    /**
     * @param opset the default domain's opset, which decides where some operators read their axes from
     * @param inputs by graph input name; they override an initializer of the same name, as ONNX allows
     */
    static Map<String, Tensor> run(OnnxMl.GraphProto graph, long opset, Map<String, Tensor> inputs) {
        Map<String, Tensor> values = new HashMap<>();
        for (TensorProto t : graph.getInitializerList()) {
            values.put(t.getName(), decode(t));
        }
        values.putAll(inputs);
        for (OnnxMl.ValueInfoProto v : graph.getInputList()) {
            if (!values.containsKey(v.getName())) {
                throw new IllegalArgumentException("no value for graph input '" + v.getName() + "'");
            }
        }
        for (NodeProto node : graph.getNodeList()) {
            List<Tensor> in = new ArrayList<>();
            for (String name : node.getInputList()) {
                if (name.isEmpty()) {
                    in.add(null);
                } else if (values.containsKey(name)) {
                    in.add(values.get(name));
                } else {
                    throw new IllegalStateException("node '" + node.getName() + "' reads '" + name
                            + "', which nothing produced before it");
                }
            }
            List<Tensor> out;
            try {
                out = evaluate(node, in, opset);
            } catch (RuntimeException e) {
                if (e instanceof UnsupportedOperationException) {
                    throw e;
                }
                throw new IllegalStateException(node.getOpType() + " node '" + node.getName() + "': " + e.getMessage(), e);
            }
            for (int i = 0; i < node.getOutputCount() && i < out.size(); i++) {
                if (!node.getOutput(i).isEmpty()) {
                    values.put(node.getOutput(i), out.get(i));
                }
            }
        }
        Map<String, Tensor> result = new LinkedHashMap<>();
        for (OnnxMl.ValueInfoProto v : graph.getOutputList()) {
            Tensor t = values.get(v.getName());
            if (t == null) {
                throw new IllegalStateException("graph output '" + v.getName() + "' was never computed");
            }
            result.put(v.getName(), t);
        }
        return result;
    }

    private static List<Tensor> evaluate(NodeProto n, List<Tensor> in, long opset) {
        if (!n.getDomain().isEmpty() && !n.getDomain().equals("ai.onnx")) {
            throw unsupported(n);
        }
        return switch (n.getOpType()) {
            case "LSTM", "GRU", "RNN" -> Recurrent.run(n, in);
            case "MatMul" -> List.of(matmul(in.get(0), in.get(1)));
            case "Gemm" -> List.of(gemm(n, in));
            case "Add" -> List.of(broadcast(in.get(0), in.get(1), Double::sum));
            case "Sub" -> List.of(broadcast(in.get(0), in.get(1), (a, b) -> a - b));
            case "Mul" -> List.of(broadcast(in.get(0), in.get(1), (a, b) -> a * b));
            case "Div" -> List.of(broadcast(in.get(0), in.get(1), (a, b) -> a / b));
            case "Relu" -> List.of(map(in.get(0), v -> Math.max(v, 0)));
            case "Sigmoid" -> List.of(map(in.get(0), v -> 1 / (1 + Math.exp(-v))));
            case "Tanh" -> List.of(map(in.get(0), Math::tanh));
            case "Softmax" -> List.of(softmax(n, in.get(0), opset));
            case "Identity" -> List.of(in.get(0));
            case "Transpose" -> List.of(transpose(in.get(0), ints(n, "perm", null)));
            case "Squeeze" -> List.of(squeeze(in.get(0), axesOf(n, in, 1, opset >= 13)));
            case "Unsqueeze" -> List.of(unsqueeze(in.get(0), axesOf(n, in, 1, opset >= 13)));
            case "Reshape" -> List.of(reshape(in.get(0), in.get(1).longs(), integer(n, "allowzero", 0) != 0));
            case "Flatten" -> List.of(flatten(in.get(0), integer(n, "axis", 1)));
            case "Slice" -> List.of(slice(n, in, opset));
            case "Gather" -> List.of(gather(in.get(0), in.get(1), integer(n, "axis", 0)));
            case "Concat" -> List.of(concat(in, integer(n, "axis", Long.MIN_VALUE)));
            case "Constant" -> List.of(constant(n));
            default -> throw unsupported(n);
        };
    }

    private static UnsupportedOperationException unsupported(NodeProto n) {
        String op = n.getDomain().isEmpty() ? n.getOpType() : n.getDomain() + "." + n.getOpType();
        return new UnsupportedOperationException("the reference evaluator does not implement ONNX operator '" + op
                + "' (node '" + n.getName() + "')");
    }

    // ---------------------------------------------------------------- elementwise

    private static Tensor map(Tensor x, DoubleUnaryOperator f) {
        double[] out = new double[x.data().length];
        for (int i = 0; i < out.length; i++) {
            out[i] = f.applyAsDouble(x.data()[i]);
        }
        return new Tensor(x.shape(), out);
    }

    /** NumPy (multidirectional) broadcasting. */
    static Tensor broadcast(Tensor a, Tensor b, DoubleBinaryOperator f) {
        int rank = Math.max(a.rank(), b.rank());
        long[] shape = new long[rank];
        long[] sa = padLeft(a.shape(), rank);
        long[] sb = padLeft(b.shape(), rank);
        for (int i = 0; i < rank; i++) {
            if (sa[i] != sb[i] && sa[i] != 1 && sb[i] != 1) {
                throw new IllegalArgumentException("cannot broadcast " + Arrays.toString(a.shape()) + " with "
                        + Arrays.toString(b.shape()));
            }
            shape[i] = sa[i] == 1 ? sb[i] : sa[i];
        }
        long[] stA = broadcastStrides(sa, shape);
        long[] stB = broadcastStrides(sb, shape);
        double[] out = new double[(int) size(shape)];
        int[] idx = new int[rank];
        for (int i = 0; i < out.length; i++) {
            long oa = 0;
            long ob = 0;
            for (int d = 0; d < rank; d++) {
                oa += idx[d] * stA[d];
                ob += idx[d] * stB[d];
            }
            out[i] = f.applyAsDouble(a.data()[(int) oa], b.data()[(int) ob]);
            increment(idx, shape);
        }
        return new Tensor(shape, out);
    }

    // ---------------------------------------------------------------- linear algebra

    /** numpy.matmul: 1-D operands promoted and demoted, leading (batch) dimensions broadcast. */
    static Tensor matmul(Tensor a, Tensor b) {
        long[] sa = a.rank() == 1 ? new long[] {1, a.shape()[0]} : a.shape();
        long[] sb = b.rank() == 1 ? new long[] {b.shape()[0], 1} : b.shape();
        int m = (int) sa[sa.length - 2];
        int k = (int) sa[sa.length - 1];
        int n = (int) sb[sb.length - 1];
        if (sb[sb.length - 2] != k) {
            throw new IllegalArgumentException("MatMul of " + Arrays.toString(a.shape()) + " and " + Arrays.toString(b.shape()));
        }
        long[] batchA = Arrays.copyOf(sa, sa.length - 2);
        long[] batchB = Arrays.copyOf(sb, sb.length - 2);
        int rank = Math.max(batchA.length, batchB.length);
        long[] pa = padLeft(batchA, rank);
        long[] pb = padLeft(batchB, rank);
        long[] batch = new long[rank];
        for (int i = 0; i < rank; i++) {
            if (pa[i] != pb[i] && pa[i] != 1 && pb[i] != 1) {
                throw new IllegalArgumentException("MatMul batch dims " + Arrays.toString(batchA) + " vs " + Arrays.toString(batchB));
            }
            batch[i] = pa[i] == 1 ? pb[i] : pa[i];
        }
        long[] stA = broadcastStrides(pa, batch);
        long[] stB = broadcastStrides(pb, batch);
        int batches = (int) size(batch);
        double[] out = new double[batches * m * n];
        int[] idx = new int[rank];
        for (int q = 0; q < batches; q++) {
            long oa = 0;
            long ob = 0;
            for (int d = 0; d < rank; d++) {
                oa += idx[d] * stA[d];
                ob += idx[d] * stB[d];
            }
            int baseA = (int) oa * m * k;
            int baseB = (int) ob * k * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int p = 0; p < k; p++) {
                        s += a.data()[baseA + i * k + p] * b.data()[baseB + p * n + j];
                    }
                    out[(q * m + i) * n + j] = s;
                }
            }
            increment(idx, batch);
        }
        List<Long> shape = new ArrayList<>();
        for (long d : batch) {
            shape.add(d);
        }
        if (a.rank() != 1) {
            shape.add((long) m);
        }
        if (b.rank() != 1) {
            shape.add((long) n);
        }
        return new Tensor(shape.stream().mapToLong(Long::longValue).toArray(), out);
    }

    private static Tensor gemm(NodeProto n, List<Tensor> in) {
        Tensor a = integer(n, "transA", 0) != 0 ? transpose(in.get(0), null) : in.get(0);
        Tensor b = integer(n, "transB", 0) != 0 ? transpose(in.get(1), null) : in.get(1);
        double alpha = real(n, "alpha", 1.0);
        double beta = real(n, "beta", 1.0);
        Tensor y = map(matmul(a, b), v -> alpha * v);
        Tensor c = in.size() > 2 ? in.get(2) : null;
        if (c == null) {
            return y;
        }
        return broadcast(y, map(c, v -> beta * v), Double::sum);
    }

    // ---------------------------------------------------------------- shape operators

    static Tensor transpose(Tensor x, long[] perm) {
        int r = x.rank();
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) {
                perm[i] = r - 1 - i;
            }
        }
        long[] shape = new long[r];
        for (int i = 0; i < r; i++) {
            shape[i] = x.shape()[(int) perm[i]];
        }
        long[] inStrides = strides(x.shape());
        double[] out = new double[x.data().length];
        int[] idx = new int[r];
        for (int i = 0; i < out.length; i++) {
            long src = 0;
            for (int d = 0; d < r; d++) {
                src += idx[d] * inStrides[(int) perm[d]];
            }
            out[i] = x.data()[(int) src];
            increment(idx, shape);
        }
        return new Tensor(shape, out);
    }

    private static long[] axesOf(NodeProto n, List<Tensor> in, int position, boolean fromInput) {
        if (fromInput) {
            return in.size() > position && in.get(position) != null ? in.get(position).longs() : null;
        }
        return ints(n, "axes", null);
    }

    private static Tensor squeeze(Tensor x, long[] axes) {
        List<Long> shape = new ArrayList<>();
        boolean[] drop = new boolean[x.rank()];
        if (axes == null) {
            for (int i = 0; i < x.rank(); i++) {
                drop[i] = x.shape()[i] == 1;
            }
        } else {
            for (long a : axes) {
                int axis = (int) (a < 0 ? a + x.rank() : a);
                if (x.shape()[axis] != 1) {
                    throw new IllegalArgumentException("cannot squeeze axis " + a + " of " + Arrays.toString(x.shape()));
                }
                drop[axis] = true;
            }
        }
        for (int i = 0; i < x.rank(); i++) {
            if (!drop[i]) {
                shape.add(x.shape()[i]);
            }
        }
        return new Tensor(shape.stream().mapToLong(Long::longValue).toArray(), x.data());
    }

    private static Tensor unsqueeze(Tensor x, long[] axes) {
        int rank = x.rank() + axes.length;
        boolean[] inserted = new boolean[rank];
        for (long a : axes) {
            inserted[(int) (a < 0 ? a + rank : a)] = true;
        }
        long[] shape = new long[rank];
        int k = 0;
        for (int i = 0; i < rank; i++) {
            shape[i] = inserted[i] ? 1 : x.shape()[k++];
        }
        return new Tensor(shape, x.data());
    }

    private static Tensor reshape(Tensor x, long[] target, boolean allowZero) {
        long[] shape = target.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0 && !allowZero) {
                shape[i] = x.shape()[i];
            }
            if (shape[i] == -1) {
                infer = i;
            } else {
                known *= shape[i];
            }
        }
        if (infer >= 0) {
            shape[infer] = x.data().length / known;
        }
        return new Tensor(shape, x.data());
    }

    private static Tensor flatten(Tensor x, long axis) {
        int a = (int) (axis < 0 ? axis + x.rank() : axis);
        long outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= x.shape()[i];
        }
        return new Tensor(new long[] {outer, x.data().length / Math.max(outer, 1)}, x.data());
    }

    private static Tensor slice(NodeProto n, List<Tensor> in, long opset) {
        Tensor x = in.get(0);
        long[] starts;
        long[] ends;
        long[] axes;
        long[] steps = null;
        if (opset >= 10) {
            starts = in.get(1).longs();
            ends = in.get(2).longs();
            axes = in.size() > 3 && in.get(3) != null ? in.get(3).longs() : null;
            steps = in.size() > 4 && in.get(4) != null ? in.get(4).longs() : null;
        } else {
            starts = ints(n, "starts", null);
            ends = ints(n, "ends", null);
            axes = ints(n, "axes", null);
        }
        int r = x.rank();
        long[] from = new long[r];
        long[] step = new long[r];
        long[] shape = x.shape().clone();
        Arrays.fill(step, 1);
        for (int i = 0; i < starts.length; i++) {
            int axis = (int) (axes == null ? i : axes[i] < 0 ? axes[i] + r : axes[i]);
            long dim = x.shape()[axis];
            long s = steps == null ? 1 : steps[i];
            long start = starts[i] < 0 ? starts[i] + dim : starts[i];
            long end = ends[i] < 0 ? ends[i] + dim : ends[i];
            if (s > 0) {
                start = clamp(start, 0, dim);
                end = clamp(end, 0, dim);
                shape[axis] = Math.max(0, (end - start + s - 1) / s);
            } else {
                start = clamp(start, 0, dim - 1);
                end = clamp(end, -1, dim - 1);
                shape[axis] = Math.max(0, (start - end + (-s) - 1) / (-s));
            }
            from[axis] = start;
            step[axis] = s;
        }
        long[] st = strides(x.shape());
        double[] out = new double[(int) size(shape)];
        int[] idx = new int[r];
        for (int i = 0; i < out.length; i++) {
            long src = 0;
            for (int d = 0; d < r; d++) {
                src += (from[d] + idx[d] * step[d]) * st[d];
            }
            out[i] = x.data()[(int) src];
            increment(idx, shape);
        }
        return new Tensor(shape, out);
    }

    private static Tensor gather(Tensor x, Tensor indices, long axisAttr) {
        int r = x.rank();
        int axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= x.shape()[i];
        }
        long dim = x.shape()[axis];
        long inner = 1;
        for (int i = axis + 1; i < r; i++) {
            inner *= x.shape()[i];
        }
        long[] idx = indices.longs();
        double[] out = new double[(int) (outer * idx.length * inner)];
        int k = 0;
        for (long o = 0; o < outer; o++) {
            for (long j : idx) {
                long at = j < 0 ? j + dim : j;
                if (at < 0 || at >= dim) {
                    throw new IllegalArgumentException("Gather index " + j + " out of range for dim " + dim);
                }
                for (long q = 0; q < inner; q++) {
                    out[k++] = x.data()[(int) ((o * dim + at) * inner + q)];
                }
            }
        }
        long[] shape = new long[r - 1 + indices.rank()];
        System.arraycopy(x.shape(), 0, shape, 0, axis);
        System.arraycopy(indices.shape(), 0, shape, axis, indices.rank());
        System.arraycopy(x.shape(), axis + 1, shape, axis + indices.rank(), r - axis - 1);
        return new Tensor(shape, out);
    }

    private static Tensor concat(List<Tensor> in, long axisAttr) {
        if (axisAttr == Long.MIN_VALUE) {
            throw new IllegalArgumentException("Concat needs an axis");
        }
        Tensor first = in.get(0);
        int r = first.rank();
        int axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= first.shape()[i];
        }
        long[] shape = first.shape().clone();
        shape[axis] = 0;
        for (Tensor t : in) {
            shape[axis] += t.shape()[axis];
        }
        double[] out = new double[(int) size(shape)];
        int k = 0;
        for (long o = 0; o < outer; o++) {
            for (Tensor t : in) {
                int chunk = (int) (t.data().length / Math.max(outer, 1));
                System.arraycopy(t.data(), (int) (o * chunk), out, k, chunk);
                k += chunk;
            }
        }
        return new Tensor(shape, out);
    }

    private static Tensor softmax(NodeProto n, Tensor x, long opset) {
        int r = x.rank();
        long axisAttr = integer(n, "axis", opset >= 13 ? -1 : 1);
        int axis = (int) (axisAttr < 0 ? axisAttr + r : axisAttr);
        long outer = 1;
        for (int i = 0; i < axis; i++) {
            outer *= x.shape()[i];
        }
        // Before opset 13 the input is coerced to 2-D at the axis: everything from it on is one row.
        long dim = opset >= 13 ? x.shape()[axis] : x.data().length / Math.max(outer, 1);
        long inner = opset >= 13 ? x.data().length / Math.max(outer * dim, 1) : 1;
        double[] out = new double[x.data().length];
        for (long o = 0; o < outer; o++) {
            for (long q = 0; q < inner; q++) {
                double max = Double.NEGATIVE_INFINITY;
                for (long j = 0; j < dim; j++) {
                    max = Math.max(max, x.data()[(int) ((o * dim + j) * inner + q)]);
                }
                double sum = 0;
                for (long j = 0; j < dim; j++) {
                    int at = (int) ((o * dim + j) * inner + q);
                    out[at] = Math.exp(x.data()[at] - max);
                    sum += out[at];
                }
                for (long j = 0; j < dim; j++) {
                    out[(int) ((o * dim + j) * inner + q)] /= sum;
                }
            }
        }
        return new Tensor(x.shape(), out);
    }

    private static Tensor constant(NodeProto n) {
        for (AttributeProto a : n.getAttributeList()) {
            switch (a.getName()) {
                case "value":
                    return decode(a.getT());
                case "value_float":
                    return Tensor.scalar(a.getF());
                case "value_int":
                    return Tensor.scalar(a.getI());
                case "value_floats": {
                    double[] d = new double[a.getFloatsCount()];
                    for (int i = 0; i < d.length; i++) {
                        d[i] = a.getFloats(i);
                    }
                    return new Tensor(new long[] {d.length}, d);
                }
                case "value_ints": {
                    double[] d = a.getIntsList().stream().mapToDouble(Long::doubleValue).toArray();
                    return new Tensor(new long[] {d.length}, d);
                }
                default:
                    break;
            }
        }
        throw new UnsupportedOperationException("Constant node '" + n.getName() + "' has no value this evaluator reads");
    }

    // ---------------------------------------------------------------- recurrent operators

    /**
     * ONNX {@code LSTM} (gates i, o, f, c), {@code GRU} (z, r, h) and {@code RNN}, every direction, both layouts.
     * Written from the operator documentation's equations, time step by time step and batch row by batch row.
     */
    private static final class Recurrent {
        private final String kind;
        private final int gates;
        private final int hidden;
        private final int dirs;
        private final boolean reverseOnly;
        private final boolean batchFirst;
        private final double clip;
        private final boolean inputForget;
        private final boolean linearBeforeReset;
        private final DoubleUnaryOperator[] activations;
        private final int perDirection;

        private Recurrent(NodeProto n, Tensor r) {
            kind = n.getOpType();
            gates = switch (kind) {
                case "LSTM" -> 4;
                case "GRU" -> 3;
                default -> 1;
            };
            perDirection = switch (kind) {
                case "LSTM" -> 3;
                case "GRU" -> 2;
                default -> 1;
            };
            String direction = string(n, "direction", "forward");
            dirs = direction.equals("bidirectional") ? 2 : 1;
            if (!List.of("forward", "reverse", "bidirectional").contains(direction)) {
                throw new IllegalArgumentException("direction '" + direction + "'");
            }
            reverseOnly = direction.equals("reverse");
            hidden = (int) integer(n, "hidden_size", r.shape()[2]);
            batchFirst = integer(n, "layout", 0) == 1;
            clip = real(n, "clip", Double.POSITIVE_INFINITY);
            inputForget = integer(n, "input_forget", 0) != 0;
            linearBeforeReset = integer(n, "linear_before_reset", 0) != 0;
            List<String> names = strings(n, "activations");
            if (names.isEmpty()) {
                List<String> defaults = switch (kind) {
                    case "LSTM" -> List.of("Sigmoid", "Tanh", "Tanh");
                    case "GRU" -> List.of("Sigmoid", "Tanh");
                    default -> List.of("Tanh");
                };
                names = new ArrayList<>();
                for (int d = 0; d < dirs; d++) {
                    names.addAll(defaults);
                }
            }
            if (names.size() != perDirection * dirs) {
                throw new IllegalArgumentException(names.size() + " activations for " + dirs + " direction(s)");
            }
            activations = Activations.parse(names, floats(n, "activation_alpha"), floats(n, "activation_beta"));
        }

        static List<Tensor> run(NodeProto n, List<Tensor> in) {
            Tensor sequenceLens = in.size() > 4 ? in.get(4) : null;
            if (sequenceLens != null) {
                throw new UnsupportedOperationException("the reference evaluator does not implement sequence_lens ("
                        + n.getOpType() + " node '" + n.getName() + "')");
            }
            return new Recurrent(n, in.get(2)).compute(in);
        }

        private double clip(double v) {
            return Math.max(-clip, Math.min(clip, v));
        }

        private List<Tensor> compute(List<Tensor> in) {
            Tensor x = in.get(0);
            Tensor w = in.get(1);
            Tensor r = in.get(2);
            Tensor b = in.size() > 3 ? in.get(3) : null;
            Tensor h0 = in.size() > 5 ? in.get(5) : null;
            Tensor c0 = kind.equals("LSTM") && in.size() > 6 ? in.get(6) : null;
            Tensor p = kind.equals("LSTM") && in.size() > 7 ? in.get(7) : null;
            int seq = (int) x.shape()[batchFirst ? 1 : 0];
            int batch = (int) x.shape()[batchFirst ? 0 : 1];
            int inSize = (int) x.shape()[2];
            int h = hidden;
            int gh = gates * h;
            if (w.shape()[0] != dirs || w.shape()[1] != gh || w.shape()[2] != inSize) {
                throw new IllegalArgumentException("W is " + Arrays.toString(w.shape()));
            }
            // Y [seq, dirs, batch, H] (layout 0) or [batch, seq, dirs, H] (layout 1); Y_h, Y_c [dirs, batch, H] or
            // [batch, dirs, H].
            double[] y = new double[seq * dirs * batch * h];
            double[] yh = new double[dirs * batch * h];
            double[] yc = new double[dirs * batch * h];
            for (int d = 0; d < dirs; d++) {
                boolean reverse = reverseOnly || d == 1;
                DoubleUnaryOperator f = activations[d * perDirection];
                DoubleUnaryOperator g = perDirection > 1 ? activations[d * perDirection + 1] : null;
                DoubleUnaryOperator hAct = perDirection > 2 ? activations[d * perDirection + 2] : null;
                for (int bi = 0; bi < batch; bi++) {
                    double[] ht = new double[h];
                    double[] ct = new double[h];
                    for (int j = 0; j < h; j++) {
                        ht[j] = h0 == null ? 0 : h0.data()[stateIndex(d, bi, j, batch)];
                        ct[j] = c0 == null ? 0 : c0.data()[stateIndex(d, bi, j, batch)];
                    }
                    for (int s = 0; s < seq; s++) {
                        int t = reverse ? seq - 1 - s : s;
                        double[] xt = new double[inSize];
                        for (int i = 0; i < inSize; i++) {
                            int at = batchFirst ? (bi * seq + t) * inSize + i : (t * batch + bi) * inSize + i;
                            xt[i] = x.data()[at];
                        }
                        // xw[k] = W[k]·x + Wb[k];  hr[k] = R[k]·h + Rb[k]  for every gate row k.
                        double[] xw = new double[gh];
                        double[] hr = new double[gh];
                        for (int k = 0; k < gh; k++) {
                            double sx = b == null ? 0 : b.data()[d * 2 * gh + k];
                            for (int i = 0; i < inSize; i++) {
                                sx += w.data()[(d * gh + k) * inSize + i] * xt[i];
                            }
                            double sh = b == null ? 0 : b.data()[d * 2 * gh + gh + k];
                            for (int i = 0; i < h; i++) {
                                sh += r.data()[(d * gh + k) * h + i] * ht[i];
                            }
                            xw[k] = sx;
                            hr[k] = sh;
                        }
                        double[] next = new double[h];
                        switch (kind) {
                            case "LSTM" -> {
                                for (int j = 0; j < h; j++) {
                                    double pi = p == null ? 0 : p.data()[d * 3 * h + j];
                                    double po = p == null ? 0 : p.data()[d * 3 * h + h + j];
                                    double pf = p == null ? 0 : p.data()[d * 3 * h + 2 * h + j];
                                    double i = f.applyAsDouble(clip(xw[j] + hr[j] + pi * ct[j]));
                                    double fg = inputForget ? 1 - i
                                            : f.applyAsDouble(clip(xw[2 * h + j] + hr[2 * h + j] + pf * ct[j]));
                                    double cand = g.applyAsDouble(clip(xw[3 * h + j] + hr[3 * h + j]));
                                    double c = fg * ct[j] + i * cand;
                                    double o = f.applyAsDouble(clip(xw[h + j] + hr[h + j] + po * c));
                                    ct[j] = c;
                                    next[j] = o * hAct.applyAsDouble(c);
                                }
                            }
                            case "GRU" -> {
                                double[] z = new double[h];
                                double[] rg = new double[h];
                                for (int j = 0; j < h; j++) {
                                    z[j] = f.applyAsDouble(clip(xw[j] + hr[j]));
                                    rg[j] = f.applyAsDouble(clip(xw[h + j] + hr[h + j]));
                                }
                                for (int j = 0; j < h; j++) {
                                    double pre;
                                    if (linearBeforeReset) {
                                        pre = xw[2 * h + j] + rg[j] * hr[2 * h + j];
                                    } else {
                                        // (r ⊙ h)·Rh + Rbh: the reset gate applies before the recurrent product.
                                        double s2 = b == null ? 0 : b.data()[d * 2 * gh + gh + 2 * h + j];
                                        for (int i = 0; i < h; i++) {
                                            s2 += r.data()[(d * gh + 2 * h + j) * h + i] * rg[i] * ht[i];
                                        }
                                        pre = xw[2 * h + j] + s2;
                                    }
                                    double cand = g.applyAsDouble(clip(pre));
                                    next[j] = (1 - z[j]) * cand + z[j] * ht[j];
                                }
                            }
                            default -> {
                                for (int j = 0; j < h; j++) {
                                    next[j] = f.applyAsDouble(clip(xw[j] + hr[j]));
                                }
                            }
                        }
                        ht = next;
                        for (int j = 0; j < h; j++) {
                            int at = batchFirst ? ((bi * seq + t) * dirs + d) * h + j : ((t * dirs + d) * batch + bi) * h + j;
                            y[at] = ht[j];
                        }
                    }
                    for (int j = 0; j < h; j++) {
                        yh[stateIndex(d, bi, j, batch)] = ht[j];
                        yc[stateIndex(d, bi, j, batch)] = ct[j];
                    }
                }
            }
            long[] yShape = batchFirst ? new long[] {batch, seq, dirs, h} : new long[] {seq, dirs, batch, h};
            long[] stateShape = batchFirst ? new long[] {batch, dirs, h} : new long[] {dirs, batch, h};
            List<Tensor> out = new ArrayList<>(List.of(new Tensor(yShape, y), new Tensor(stateShape, yh)));
            if (kind.equals("LSTM")) {
                out.add(new Tensor(stateShape, yc));
            }
            return out;
        }

        private int stateIndex(int d, int b, int j, int batch) {
            return batchFirst ? (b * dirs + d) * hidden + j : (d * batch + b) * hidden + j;
        }
    }

    /** The activation functions the recurrent operators accept, with the alpha and beta each reads. */
    private static final class Activations {
        private Activations() {
        }

        /**
         * Alphas and betas are consumed in order by the activations that read them (so
         * {@code [Sigmoid, LeakyRelu, HardSigmoid]} with alphas {@code [0.1, 0.3]} gives LeakyRelu 0.1 and
         * HardSigmoid 0.3), as ONNX Runtime does. Missing values take the defaults of the ONNX operators of the same
         * name; ONNX Runtime instead uses 0 for ThresholdedRelu, Affine and ScaledTanh, so a source relying on those
         * defaults would not agree, and an exporter that writes them explicitly is unaffected.
         */
        static DoubleUnaryOperator[] parse(List<String> names, List<Float> alphas, List<Float> betas) {
            DoubleUnaryOperator[] out = new DoubleUnaryOperator[names.size()];
            int ai = 0;
            int bi = 0;
            for (int k = 0; k < names.size(); k++) {
                String name = names.get(k).toLowerCase(Locale.ROOT);
                boolean usesAlpha = List.of("affine", "leakyrelu", "thresholdedrelu", "scaledtanh", "hardsigmoid", "elu")
                        .contains(name);
                boolean usesBeta = List.of("affine", "scaledtanh", "hardsigmoid").contains(name);
                // Attribute values, defaults included, are float32 in ONNX.
                double alpha = switch (name) {
                    case "leakyrelu" -> 0.01f;
                    case "hardsigmoid" -> 0.2f;
                    default -> 1.0f;
                };
                double beta = switch (name) {
                    case "hardsigmoid" -> 0.5f;
                    case "scaledtanh" -> 1.0f;
                    default -> 0.0f;
                };
                if (usesAlpha && ai < alphas.size()) {
                    alpha = alphas.get(ai++);
                }
                if (usesBeta && bi < betas.size()) {
                    beta = betas.get(bi++);
                }
                out[k] = of(name, names.get(k), alpha, beta);
            }
            return out;
        }

        private static DoubleUnaryOperator of(String name, String original, double a, double b) {
            return switch (name) {
                case "sigmoid" -> v -> 1 / (1 + Math.exp(-v));
                case "tanh" -> Math::tanh;
                case "relu" -> v -> Math.max(0, v);
                case "affine" -> v -> a * v + b;
                case "leakyrelu" -> v -> v >= 0 ? v : a * v;
                case "thresholdedrelu" -> v -> v > a ? v : 0;
                case "scaledtanh" -> v -> a * Math.tanh(b * v);
                case "hardsigmoid" -> v -> Math.max(0, Math.min(1, a * v + b));
                case "elu" -> v -> v >= 0 ? v : a * (Math.exp(v) - 1);
                case "softsign" -> v -> v / (1 + Math.abs(v));
                case "softplus" -> v -> Math.log1p(Math.exp(v));
                default -> throw new UnsupportedOperationException("activation '" + original + "' is not one ONNX defines");
            };
        }
    }

    // ---------------------------------------------------------------- tensors and attributes

    static Tensor decode(TensorProto t) {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new UnsupportedOperationException("tensor '" + t.getName() + "' keeps its data in an external file");
        }
        long[] shape = t.getDimsList().stream().mapToLong(Long::longValue).toArray();
        int n = (int) size(shape);
        double[] d = new double[n];
        ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        boolean hasRaw = !t.getRawData().isEmpty();
        TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
        if (type == null) {
            throw new UnsupportedOperationException("tensor '" + t.getName() + "' has data type " + t.getDataType());
        }
        for (int i = 0; i < n; i++) {
            d[i] = switch (type) {
                case FLOAT -> hasRaw ? raw.getFloat(4 * i) : t.getFloatData(i);
                case DOUBLE -> hasRaw ? raw.getDouble(8 * i) : t.getDoubleData(i);
                case INT64 -> hasRaw ? raw.getLong(8 * i) : t.getInt64Data(i);
                case INT32 -> hasRaw ? raw.getInt(4 * i) : t.getInt32Data(i);
                case INT8 -> hasRaw ? raw.get(i) : t.getInt32Data(i);
                case UINT8, BOOL -> hasRaw ? raw.get(i) & 0xff : t.getInt32Data(i);
                default -> throw new UnsupportedOperationException("tensor '" + t.getName() + "' is " + type);
            };
        }
        return new Tensor(shape, d);
    }

    private static AttributeProto attribute(NodeProto n, String name) {
        for (AttributeProto a : n.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    private static long integer(NodeProto n, String name, long fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getI();
    }

    private static double real(NodeProto n, String name, double fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getF();
    }

    private static String string(NodeProto n, String name, String fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getS().toStringUtf8();
    }

    private static long[] ints(NodeProto n, String name, long[] fallback) {
        AttributeProto a = attribute(n, name);
        return a == null ? fallback : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    private static List<Float> floats(NodeProto n, String name) {
        AttributeProto a = attribute(n, name);
        return a == null ? List.of() : a.getFloatsList();
    }

    private static List<String> strings(NodeProto n, String name) {
        AttributeProto a = attribute(n, name);
        return a == null ? List.of() : a.getStringsList().stream().map(s -> s.toStringUtf8()).toList();
    }

    // ---------------------------------------------------------------- index arithmetic

    static long size(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    private static long[] strides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Strides of {@code shape} read as {@code target}: 0 along the axes it broadcasts. */
    private static long[] broadcastStrides(long[] shape, long[] target) {
        long[] s = strides(shape);
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 1 && target[i] != 1) {
                s[i] = 0;
            }
        }
        return s;
    }

    private static long[] padLeft(long[] shape, int rank) {
        long[] out = new long[rank];
        Arrays.fill(out, 1);
        System.arraycopy(shape, 0, out, rank - shape.length, shape.length);
        return out;
    }

    private static void increment(int[] idx, long[] shape) {
        for (int d = idx.length - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) {
                return;
            }
            idx[d] = 0;
        }
    }

    private static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }
}
