package org.lstmcast.global;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.lstmcast.export.Export;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.Ort;

/**
 * The proof of a global export: ONNX Runtime runs the written file on histories of many lengths, and every forecast
 * and both ends of every interval are compared with the Java model ({@link GlobalForecaster} and
 * {@link Intervals#bounds}).
 */
final class GlobalProof {
    private static final int BATCH = 256;

    private GlobalProof() {
    }

    static Export.Parity prove(GlobalForecaster model, Intervals intervals, List<double[]> raw, Path onnx)
            throws OrtException {
        // Both sides read the float32 values the graph receives.
        List<double[]> histories = new ArrayList<>(raw.size());
        for (double[] h : raw) {
            double[] f = new double[h.length];
            for (int t = 0; t < h.length; t++) {
                f[t] = (float) h[t];
            }
            histories.add(f);
        }
        double[][] expected = model.forecast(histories);
        double[][] actual = new double[histories.size()][];
        float[][][][] bounds = new float[2][histories.size()][][];
        Set<String> outputs = intervals == null ? Set.of(ForecastSpec.OUTPUT)
                : Set.of(ForecastSpec.OUTPUT, Intervals.LOWER, Intervals.UPPER);
        // Histories of one length share a batch; the tensor is [batch, length, 1].
        Map<Integer, List<Integer>> byLength = new LinkedHashMap<>();
        for (int i = 0; i < histories.size(); i++) {
            byLength.computeIfAbsent(histories.get(i).length, k -> new ArrayList<>()).add(i);
        }
        try (OrtSession.SessionOptions options = Ort.sessionOptions();
             OrtSession session = Ort.environment().createSession(onnx.toString(), options)) {
            for (Map.Entry<Integer, List<Integer>> group : byLength.entrySet()) {
                List<Integer> idx = group.getValue();
                for (int from = 0; from < idx.size(); from += BATCH) {
                    List<Integer> part = idx.subList(from, Math.min(idx.size(), from + BATCH));
                    float[][][] x = new float[part.size()][group.getKey()][1];
                    for (int j = 0; j < part.size(); j++) {
                        double[] h = histories.get(part.get(j));
                        for (int t = 0; t < h.length; t++) {
                            x[j][t][0] = (float) h[t];
                        }
                    }
                    try (OnnxTensor input = OnnxTensor.createTensor(Ort.environment(), x);
                         OrtSession.Result result = session.run(Map.of(ForecastSpec.INPUT, input), outputs)) {
                        float[][] f = (float[][]) result.get(ForecastSpec.OUTPUT).orElseThrow().getValue();
                        float[][][] lower = intervals == null ? null
                                : (float[][][]) result.get(Intervals.LOWER).orElseThrow().getValue();
                        float[][][] upper = intervals == null ? null
                                : (float[][][]) result.get(Intervals.UPPER).orElseThrow().getValue();
                        for (int j = 0; j < part.size(); j++) {
                            int i = part.get(j);
                            actual[i] = new double[f[j].length];
                            for (int h = 0; h < f[j].length; h++) {
                                actual[i][h] = f[j][h];
                            }
                            if (intervals != null) {
                                bounds[0][i] = lower[j];
                                bounds[1][i] = upper[j];
                            }
                        }
                    }
                }
            }
        }
        Export.Parity parity = Export.compare(expected, actual);
        if (intervals == null) {
            return parity;
        }
        int horizon = expected[0].length;
        for (int l = 0; l < intervals.levels().length; l++) {
            for (int end = 0; end < 2; end++) {
                double[][] want = new double[histories.size()][];
                double[][] got = new double[histories.size()][horizon];
                for (int i = 0; i < histories.size(); i++) {
                    want[i] = intervals.bounds(expected[i], l)[end];
                    for (int h = 0; h < horizon; h++) {
                        got[i][h] = bounds[end][i][h][l];
                    }
                }
                parity = parity.with(Export.compare(want, got));
            }
        }
        return parity;
    }
}
