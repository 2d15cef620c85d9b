package org.lstmcast.model;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.Ort;

/**
 * The one proof every written graph passes before it is put in place, whatever its source: lstmcast's own runs,
 * global models, Keras, DL4J and ONNX conversions. ONNX Runtime runs the graph on windows, and every output the graph
 * declares is compared with the source: its first output with the source's own answers, and the interval outputs
 * with {@link Intervals#bounds} applied to those answers. An output the proof cannot check fails it.
 */
public final class Proof {
    /** The largest relative difference a faithful graph may show: float32 arithmetic in another order. */
    public static final double TOLERANCE = 1e-4;
    private static final int BATCH = 256;

    /** How closely ONNX Runtime reproduced the source. */
    public record Parity(int windows, int values, double maxAbsError, double maxRelError) {
        public boolean ok() {
            return maxRelError <= TOLERANCE;
        }

        /** This proof and {@code other}, on the same windows: their values counted together, the larger errors kept. */
        public Parity with(Parity other) {
            return new Parity(windows, values + other.values, Math.max(maxAbsError, other.maxAbsError),
                    Math.max(maxRelError, other.maxRelError));
        }

        /** The proof as the {@code proof} metadata entry a written graph carries. */
        public String toJson() {
            return String.format(Locale.ROOT, "{\"windows\": %d, \"max_abs_error\": %.3g, \"max_rel_error\": %.3g}",
                    windows, maxAbsError, maxRelError);
        }
    }

    /** A graph that did not pass its proof; nothing was written. */
    public static final class ParityException extends RuntimeException {
        private final Parity parity;

        public ParityException(Parity parity, String source) {
            super(String.format(Locale.ROOT,
                    "the ONNX graph differs from %s: max relative error %.3g > %.0e over %d windows; no file written",
                    source, parity.maxRelError(), TOLERANCE, parity.windows()));
            this.parity = parity;
        }

        public Parity parity() {
            return parity;
        }
    }

    private Proof() {
    }

    /**
     * Runs {@code model} on every window (raw rows {@code [rows][features]}; windows of one length share a batch) and
     * compares each declared output with the source.
     *
     * @param reference the source's answers for the windows, one flat row per window
     * @param intervals the intervals the graph writes, or null when it writes none
     */
    public static Parity prove(byte[] model, List<double[][]> windows, Function<List<double[][]>, double[][]> reference,
                               Intervals intervals) {
        double[][] expected = reference.apply(windows);
        Map<String, double[][]> actual = run(model, windows);
        List<String> names = new ArrayList<>(actual.keySet());
        Parity parity = compare(expected, actual.get(names.get(0)));
        for (String name : names.subList(1, names.size())) {
            if (intervals == null || !(name.equals(Intervals.LOWER) || name.equals(Intervals.UPPER))) {
                throw new ConversionException("the graph's output '" + name + "' has nothing to be proven against");
            }
            int end = name.equals(Intervals.LOWER) ? 0 : 1;
            int levels = intervals.levels().length;
            for (int l = 0; l < levels; l++) {
                double[][] want = new double[windows.size()][];
                double[][] got = new double[windows.size()][];
                for (int i = 0; i < windows.size(); i++) {
                    want[i] = intervals.bounds(expected[i], l)[end];
                    double[] row = actual.get(name)[i];
                    got[i] = new double[row.length / levels];
                    for (int h = 0; h < got[i].length; h++) {
                        got[i][h] = row[h * levels + l];
                    }
                }
                parity = parity.with(compare(want, got));
            }
        }
        return parity;
    }

    /** Every output of {@code model} for the windows, in the graph's order, one flat row per window. */
    public static Map<String, double[][]> run(byte[] model, List<double[][]> windows) {
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < windows.size(); i++) {
            byLength.computeIfAbsent(windows.get(i).length, k -> new ArrayList<>()).add(i);
        }
        Map<String, double[][]> out = new LinkedHashMap<>();
        try (OrtSession.SessionOptions options = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(model, options)) {
            String input = session.getInputNames().iterator().next();
            // A graph whose input declares a fixed batch (an ONNX source exported without a dynamic batch axis keeps
            // it) runs that many windows at a time, the last run padded with copies of its last window.
            long declared = ((TensorInfo) session.getInputInfo().get(input).getInfo()).getShape()[0];
            int batch = declared > 0 ? (int) declared : BATCH;
            for (String name : session.getOutputNames()) {
                out.put(name, new double[windows.size()][]);
            }
            for (List<Integer> group : byLength.values()) {
                for (int from = 0; from < group.size(); from += batch) {
                    List<Integer> part = group.subList(from, Math.min(group.size(), from + batch));
                    runBatch(session, input, windows, part, declared > 0 ? batch : part.size(), out);
                }
            }
        } catch (OrtException e) {
            throw new ConversionException("ONNX Runtime refused the graph: " + e.getMessage(), e);
        }
        return out;
    }

    private static void runBatch(OrtSession session, String input, List<double[][]> windows, List<Integer> part,
                                 int batch, Map<String, double[][]> out) throws OrtException {
        int rows = windows.get(part.get(0)).length;
        int features = windows.get(part.get(0))[0].length;
        FloatBuffer buf = FloatBuffer.allocate(batch * rows * features);
        for (int k = 0; k < batch; k++) {
            for (double[] row : windows.get(part.get(Math.min(k, part.size() - 1)))) {
                for (double v : row) {
                    buf.put((float) v);
                }
            }
        }
        buf.flip();
        try (OnnxTensor x = OnnxTensor.createTensor(Ort.environment(), buf, new long[] {batch, rows, features});
             OrtSession.Result result = session.run(Map.of(input, x))) {
            for (Map.Entry<String, double[][]> e : out.entrySet()) {
                FloatBuffer values = ((OnnxTensor) result.get(e.getKey()).orElseThrow()).getFloatBuffer();
                int per = values.remaining() / batch;
                for (int i : part) {
                    double[] row = new double[per];
                    for (int j = 0; j < per; j++) {
                        row[j] = values.get();
                    }
                    e.getValue()[i] = row;
                }
            }
        }
    }

    /**
     * Max absolute and max relative error. Relative to the larger magnitude of the pair, floored at a hundredth of the
     * largest expected magnitude: float32 rounding scales with the magnitudes inside the network, not with one output,
     * so a value near zero (2e-3 beside others at 0.5, off by 2.4e-7) would otherwise read as a large relative error.
     * A mapping error (a gate out of order, a missing bias) moves outputs by far more than that.
     */
    public static Parity compare(double[][] expected, double[][] actual) {
        double largest = 0;
        for (double[] row : expected) {
            for (double v : row) {
                largest = Math.max(largest, Math.abs(v));
            }
        }
        double floor = Math.max(1e-2 * largest, 1e-6);
        double maxAbs = 0;
        double maxRel = 0;
        int n = 0;
        for (int i = 0; i < expected.length; i++) {
            if (actual[i].length != expected[i].length) {
                throw new ConversionException("the graph answers " + actual[i].length + " values for a window where the "
                        + "source answers " + expected[i].length);
            }
            for (int h = 0; h < expected[i].length; h++) {
                double e = expected[i][h];
                double a = actual[i][h];
                double abs = Math.abs(e - a);
                double rel = abs / Math.max(Math.max(Math.abs(e), Math.abs(a)), floor);
                if (Double.isNaN(abs)) {
                    abs = Double.POSITIVE_INFINITY;
                    rel = Double.POSITIVE_INFINITY;
                }
                maxAbs = Math.max(maxAbs, abs);
                maxRel = Math.max(maxRel, rel);
                n++;
            }
        }
        return new Parity(expected.length, n, maxAbs, maxRel);
    }
}
