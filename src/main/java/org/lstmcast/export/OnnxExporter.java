package org.lstmcast.export;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.Version;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.train.ModelFile;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a trained lstmcast network as a self-contained ONNX model (opset 17): raw values in, forecasts in
 * original units out, with the window transform, the scalers and the rebuilding of levels as graph operators.
 *
 * <p>Graph: {@code input [batch, seq, features]} → last {@code lookback} steps → transform and scale →
 * Transpose to time-major → one ONNX {@code LSTM} per DL4J layer (layout 0) → the last hidden state →
 * {@code Gemm} head → unscale → rebuild levels → {@code forecast [batch, horizon]}.
 */
public final class OnnxExporter {
    public static final int OPSET = 17;
    /** IR version 8 is what opset 17 shipped with; older ONNX tooling (onnx 1.12) checks files up to it. */
    public static final int IR_VERSION = 8;

    /** DL4J's gate blocks are [c, f, o, i]; ONNX wants [i, o, f, c]: ONNX block b takes DL4J block ORDER[b]. */
    private static final int[] ORDER = {3, 2, 1, 0};

    private OnnxExporter() {
    }

    public static OnnxMl.ModelProto export(MultiLayerNetwork net, ModelFile.Info info) {
        return export(List.of(net), info);
    }

    /**
     * An ensemble side by side in one graph: each member's LSTMs and head read the same transformed window, and
     * {@code Mean} combines their scaled outputs, as {@link org.lstmcast.train.Forecaster} does, before the levels are
     * rebuilt. A single network's initializers keep their plain names; members' are prefixed {@code m1_}, {@code m2_}.
     */
    public static OnnxMl.ModelProto export(List<MultiLayerNetwork> nets, ModelFile.Info info) {
        Preprocessor pre = info.preprocessor();
        GraphBuilder g = new GraphBuilder("lstmcast_" + sanitize(info.target()));
        g.proto().addInput(GraphBuilder.floatValue(ForecastSpec.INPUT, "batch", "sequence", (long) pre.features()));
        g.proto().addOutput(GraphBuilder.floatValue(ForecastSpec.OUTPUT, "batch", (long) pre.horizon()));

        if ((pre.transform().anchorSeasons() > 0 || pre.transform() == Transform.DIFF)
                && nets.stream().allMatch(OnnxExporter::zeroHead)) {
            // The anchor alone (auto's choice on most short series: seasonal, naive or drift): a network whose output
            // layer is zero adds exactly its output shift, so the graph leaves its LSTM out instead of running it for
            // nothing.
            // [1, horizon]: the running sum of the differences' rebuild runs along axis 1.
            rebuild(g, pre, g.floats(g.fresh("out_shift"), toFloat(pre.outShift()), 1, pre.horizon()));
        } else {
            String window = g.slice(ForecastSpec.INPUT, new long[] {-pre.lookback()}, new long[] {Long.MAX_VALUE},
                    new long[] {1});
            String z = transform(g, pre, window);
            String x = g.node("Transpose", List.of(z), List.of(GraphBuilder.attr("perm", 1L, 0L, 2L)), g.fresh("time_major"));
            List<String> outputs = new ArrayList<>();
            for (int m = 0; m < nets.size(); m++) {
                outputs.add(member(g, nets.get(m), pre.horizon(), x, nets.size() == 1 ? "" : "m" + (m + 1) + "_"));
            }
            String y = outputs.size() == 1 ? outputs.get(0) : g.node("Mean", outputs, List.of(), g.fresh("ensemble_mean"));
            unscaleAndRebuild(g, pre, y);
        }
        Intervals intervals = info.predictionIntervals();
        if (intervals != null) {
            intervals(g, intervals);
        }
        return model(g, docString(info), metadata(info));
    }

    /** Whether a network's output layer is all zeros, so that it outputs exactly 0 whatever its LSTMs compute. */
    private static boolean zeroHead(MultiLayerNetwork net) {
        org.deeplearning4j.nn.api.Layer head = net.getLayer(net.getnLayers() - 1);
        return head.getParam("W").amaxNumber().doubleValue() == 0 && head.getParam("b").amaxNumber().doubleValue() == 0;
    }

    /**
     * One network's LSTMs and linear head on the time-major input {@code x}; returns its {@code [batch, horizon]}. The
     * one writer of lstmcast's own DL4J networks, for single-series and global models alike.
     */
    public static String member(GraphBuilder g, MultiLayerNetwork net, int horizon, String x, String prefix) {
        int nLayers = net.getnLayers() - 1;
        Map<String, INDArray> params = net.paramTable();
        String hidden = null;
        for (int k = 0; k < nLayers; k++) {
            LSTM lstm = lstmConfig(net, k);
            int h = (int) lstm.getNOut();
            int in = (int) lstm.getNIn();
            String w = g.floats(prefix + "lstm" + k + "_W", gates(params.get(k + "_W"), in, h), 1, 4L * h, in);
            String r = g.floats(prefix + "lstm" + k + "_R", gates(params.get(k + "_RW"), h, h), 1, 4L * h, h);
            String b = g.floats(prefix + "lstm" + k + "_B", bias(params.get(k + "_b"), h), 1, 8L * h);
            List<String> outs = g.node("LSTM", List.of(x, w, r, b),
                    List.of(GraphBuilder.attr("hidden_size", (long) h), GraphBuilder.attr("layout", 0L)),
                    List.of(g.fresh("Y"), g.fresh("Y_h")));
            if (k < nLayers - 1) {
                x = g.node("Squeeze", outs.get(0), g.longs(1));
            } else {
                hidden = g.node("Squeeze", outs.get(1), g.longs(0));
            }
        }
        INDArray headW = params.get(nLayers + "_W");
        INDArray headB = params.get(nLayers + "_b");
        checkHead(net, nLayers);
        if (headW.size(1) != horizon) {
            throw new IllegalArgumentException("the network's head has " + headW.size(1) + " outputs, the model's horizon is "
                    + horizon);
        }
        int hiddenSize = (int) headW.size(0);
        String wOut = g.floats(prefix + "head_W", flat(headW), hiddenSize, horizon);
        String bOut = g.floats(prefix + "head_b", flat(headB), horizon);
        return g.node("Gemm", hidden, wOut, bOut);
    }

    /**
     * {@link Intervals#LOWER} and {@link Intervals#UPPER}, {@code [batch, horizon, levels]}, from the forecast: the
     * forecast minus and plus the calibrated half-width of each step and level ({@code |forecast|} times it in the
     * relative space), in float32 as {@link Intervals#bounds} computes them.
     */
    public static void intervals(GraphBuilder g, Intervals intervals) {
        int horizon = intervals.horizon();
        int levels = intervals.levels().length;
        g.proto().addOutput(GraphBuilder.floatValue(Intervals.LOWER, "batch", (long) horizon, (long) levels));
        g.proto().addOutput(GraphBuilder.floatValue(Intervals.UPPER, "batch", (long) horizon, (long) levels));
        float[] q = new float[horizon * levels];
        for (int h = 0; h < horizon; h++) {
            for (int l = 0; l < levels; l++) {
                q[h * levels + l] = (float) intervals.halfWidth()[h][l];
            }
        }
        String forecast = g.node("Unsqueeze", ForecastSpec.OUTPUT, g.longs(2));
        String halfWidth = g.floats(g.fresh("half_width"), q, horizon, levels);
        String width = intervals.relative() ? g.node("Mul", g.node("Abs", forecast), halfWidth) : halfWidth;
        g.node("Sub", List.of(forecast, width), List.of(), Intervals.LOWER);
        g.node("Add", List.of(forecast, width), List.of(), Intervals.UPPER);
    }

    /** lstmcast's model header (IR version, producer, opset 17) around a graph, with its description and metadata. */
    public static OnnxMl.ModelProto model(GraphBuilder g, String docString, Map<String, String> metadata) {
        OnnxMl.ModelProto.Builder model = OnnxMl.ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName("lstmcast")
                .setProducerVersion(Version.get())
                .setDomain("org.lstmcast")
                .setModelVersion(1)
                .setDocString(docString)
                .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(g.proto());
        metadata.forEach((k, val) -> model.addMetadataProps(
                OnnxMl.StringStringEntryProto.newBuilder().setKey(k).setValue(val)));
        return model.build();
    }

    /**
     * Network output {@code y} ({@code [batch, horizon]}) → {@code y * outScale + outShift}, then the levels rebuilt into
     * {@link ForecastSpec#OUTPUT}.
     */
    public static void unscaleAndRebuild(GraphBuilder g, Preprocessor pre, String y) {
        String v = g.node("Add", g.node("Mul", y, g.floats(g.fresh("out_scale"), toFloat(pre.outScale()), pre.horizon())),
                g.floats(g.fresh("out_shift"), toFloat(pre.outShift()), pre.horizon()));
        rebuild(g, pre, v);
    }

    /** The model's self-description, as {@code metadata_props}; {@link ForecastSpec} reads it back. */
    static Map<String, String> metadata(ModelFile.Info info) {
        ObjectMapper json = new ObjectMapper();
        Map<String, String> m = new LinkedHashMap<>();
        try {
            m.put(ForecastSpec.KEY_LOOKBACK, Integer.toString(info.lookback()));
            m.put(ForecastSpec.KEY_HORIZON, Integer.toString(info.horizon()));
            m.put(ForecastSpec.KEY_FEATURES, json.writeValueAsString(info.features()));
            m.put(ForecastSpec.KEY_TARGET, info.target());
            m.put(ForecastSpec.KEY_TRANSFORM, info.transform());
            if (info.season() > 0) {
                m.put("season", Integer.toString(info.season()));
            }
            if (info.timeColumn() != null) {
                m.put(ForecastSpec.KEY_TIME_COLUMN, info.timeColumn());
            }
            m.put("test_metrics", json.writeValueAsString(info.testMetrics()));
            Intervals intervals = info.predictionIntervals();
            if (intervals != null) {
                m.put(Intervals.KEY, intervals.toMetadata());
            }
            m.put("lstmcast_version", Version.get());
            m.put("created", info.created());
            m.put("data_source", info.dataSource());
            m.put("data_sha256", info.dataSha256());
            m.put("training_config", json.writeValueAsString(info.config()));
            if (info.network() != null) {
                m.put(ForecastSpec.KEY_NETWORK, info.network());
            }
            if (info.fittedOn() != null) {
                m.put("fitted_on", info.fittedOn());
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        return m;
    }

    static String docString(ModelFile.Info info) {
        String inputs = info.features().size() == 1 ? org.lstmcast.Text.possessive(info.target()) + " own history"
                : "the history of " + String.join(", ", info.features());
        return String.format(Locale.ROOT,
                "Forecasts the next %d value%s of %s from the last %d rows of %s. Input 'input' [batch, sequence >= %d, %d]"
                        + " float32, raw values, oldest first; output 'forecast' [batch, %d] in the units of %s."
                        + " LSTM trained by lstmcast %s (transform %s).",
                info.horizon(), info.horizon() == 1 ? "" : "s", info.target(), info.lookback(), inputs, info.lookback(),
                info.features().size(), info.horizon(), info.target(), Version.get(), info.transform());
    }

    /**
     * Raw window → network input: the transform, then {@code (v - inShift) / inScale} per feature. Shared with
     * converted models, which take raw values the same way.
     */
    public static String transform(GraphBuilder g, Preprocessor pre, String window) {
        int f = pre.features();
        String shift = g.floats(g.fresh("in_shift"), toFloat(pre.inShift()), f);
        String scale = g.floats(g.fresh("in_scale"), toFloat(pre.inScale()), f);
        String t = switch (pre.transform()) {
            case LEVEL -> window;
            case DIFF, SEASONAL, SEASONAL_MEAN -> g.node("Sub",
                    g.slice(window, new long[] {1}, new long[] {Long.MAX_VALUE}, new long[] {1}),
                    g.slice(window, new long[] {0}, new long[] {-1}, new long[] {1}));
            case RELATIVE -> g.node("Sub",
                    g.node("Div", window, g.slice(window, new long[] {-1}, new long[] {Long.MAX_VALUE}, new long[] {1})),
                    g.floats(g.fresh("one"), new float[] {1f}, 1));
            case AUTO -> throw new IllegalArgumentException("transform auto is resolved before a model exists");
        };
        return g.node("Div", g.node("Sub", t, shift), scale);
    }

    /** Unscaled network output {@code v} → forecasts in original units, written to {@link ForecastSpec#OUTPUT}. */
    public static void rebuild(GraphBuilder g, Preprocessor pre, String v) {
        String out = ForecastSpec.OUTPUT;
        if (pre.transform() == org.lstmcast.data.Transform.LEVEL) {
            g.node("Identity", List.of(v), List.of(), out);
            return;
        }
        int seasons = pre.transform().anchorSeasons();
        if (seasons > 0) {
            // Each step's anchor is the target's value one season before it (with seasonal-mean, the mean of that and
            // the value a season earlier), within the last lookback rows: [batch, horizon].
            String target = g.node("Squeeze", g.slice(ForecastSpec.INPUT, new long[] {-pre.lookback(), 0},
                    new long[] {Long.MAX_VALUE, 1}, new long[] {1, 2}), g.longs(2));
            long[][] rows = new long[seasons][pre.horizon()];
            for (int k = 0; k < seasons; k++) {
                for (int h = 1; h <= pre.horizon(); h++) {
                    rows[k][h - 1] = pre.lookback() - 1 - pre.anchorLags(h)[k];
                }
            }
            String anchors = meanOfRows(g, target, rows, "anchors");
            String change = null;
            if (pre.windowDrift()) {
                // The window's mean seasonal change, one product with a column of weights: [batch, 1]. Each step's
                // anchor grows by it times the seasons between them.
                float[] weights = toFloat(Preprocessor.seasonalChangeWeights(pre.lookback(), pre.season()));
                change = g.node("MatMul", target, g.floats(g.fresh("seasonal_change"), weights, pre.lookback(), 1));
                float[] ahead = new float[pre.horizon()];
                for (int h = 1; h <= pre.horizon(); h++) {
                    ahead[h - 1] = (float) pre.seasonsAhead(h);
                }
                anchors = g.node("Add", anchors, g.node("Mul", change, g.floats(g.fresh("seasons_ahead"), ahead, pre.horizon())));
            }
            if (java.util.Arrays.stream(pre.anchorCarry()).anyMatch(c -> c != 0)) {
                // The anchor's error at the last row (its value minus the anchor a one-step forecast from the row
                // before would use), carried into each step: [batch, 1] times [horizon].
                long lastRow = pre.lookback() - 1;
                long[][] before = new long[seasons][1];
                for (int k = 0; k < seasons; k++) {
                    before[k][0] = lastRow - 1 - pre.anchorLags(1)[k];
                }
                String lastValue = g.node("Gather", List.of(target, g.longs(g.fresh("last_row"), new long[] {lastRow}, 1)),
                        List.of(GraphBuilder.attr("axis", 1L)), g.fresh("last_value"));
                String lastAnchor = meanOfRows(g, target, before, "last_anchor");
                if (change != null) {
                    lastAnchor = g.node("Add", lastAnchor, g.node("Mul", change,
                            g.floats(g.fresh("seasons_ahead_of_last"), new float[] {(float) pre.seasonsAhead(1)}, 1)));
                }
                String error = g.node("Sub", lastValue, lastAnchor);
                anchors = g.node("Add", anchors, g.node("Mul", error,
                        g.floats(g.fresh("anchor_carry"), toFloat(pre.anchorCarry()), pre.horizon())));
            }
            g.node("Add", List.of(anchors, v), List.of(), out);
            return;
        }
        // The target is input feature 0; its last raw value anchors the forecasts: [batch, 1].
        String last = g.node("Squeeze", g.slice(ForecastSpec.INPUT, new long[] {-1, 0}, new long[] {Long.MAX_VALUE, 1},
                new long[] {1, 2}), g.longs(2));
        if (pre.transform() == org.lstmcast.data.Transform.DIFF) {
            String axis = g.longs(g.fresh("axis"), new long[] {1});
            g.node("Add", List.of(g.node("CumSum", v, axis), last), List.of(), out);
        } else {
            g.node("Mul", List.of(last, g.node("Add", v, g.floats(g.fresh("one"), new float[] {1f}, 1))), List.of(), out);
        }
    }

    /**
     * The mean over seasons {@code k} of the target's values at {@code rows[k]} (positions within the last lookback
     * rows): {@code [batch, rows[k].length]}.
     */
    private static String meanOfRows(GraphBuilder g, String target, long[][] rows, String name) {
        String sum = null;
        for (long[] r : rows) {
            String gathered = g.node("Gather", List.of(target, g.longs(g.fresh("season_rows"), r, r.length)),
                    List.of(GraphBuilder.attr("axis", 1L)), g.fresh(name));
            sum = sum == null ? gathered : g.node("Add", sum, gathered);
        }
        return rows.length == 1 ? sum
                : g.node("Mul", sum, g.floats(g.fresh("mean_of_seasons"), new float[] {1f / rows.length}, 1));
    }

    private static LSTM lstmConfig(MultiLayerNetwork net, int k) {
        Layer layer = net.getLayerWiseConfigurations().getConf(k).getLayer();
        if (layer instanceof LastTimeStep last) {
            layer = last.getUnderlying();
        }
        if (!(layer instanceof LSTM lstm)) {
            throw new IllegalArgumentException("layer " + k + " is " + layer.getClass().getSimpleName()
                    + ", not an LSTM: only networks made by lstmcast train can be exported");
        }
        if (!(lstm.getActivationFn() instanceof ActivationTanH) || !(lstm.getGateActivationFn() instanceof ActivationSigmoid)) {
            throw new IllegalArgumentException("layer " + k + " uses activation " + lstm.getActivationFn() + " and gate "
                    + lstm.getGateActivationFn() + "; the export maps tanh cells with sigmoid gates only");
        }
        return lstm;
    }

    private static void checkHead(MultiLayerNetwork net, int index) {
        Layer layer = net.getLayerWiseConfigurations().getConf(index).getLayer();
        if (!(layer instanceof BaseOutputLayer out) || !(out.getActivationFn() instanceof ActivationIdentity)) {
            throw new IllegalArgumentException("the last layer must be a linear output layer");
        }
    }

    /** DL4J's {@code [in, 4H]} (blocks c, f, o, i) as ONNX's {@code [4H, in]} (blocks i, o, f, c), row-major. */
    static float[] gates(INDArray w, int in, int h) {
        float[] out = new float[4 * h * in];
        for (int b = 0; b < 4; b++) {
            int src = ORDER[b] * h;
            for (int j = 0; j < h; j++) {
                for (int i = 0; i < in; i++) {
                    out[(b * h + j) * in + i] = w.getFloat(i, src + j);
                }
            }
        }
        return out;
    }

    /** ONNX B is the input bias (reordered DL4J b) followed by a zero recurrent bias. */
    static float[] bias(INDArray b, int h) {
        float[] flat = flat(b);
        float[] out = new float[8 * h];
        for (int blk = 0; blk < 4; blk++) {
            System.arraycopy(flat, ORDER[blk] * h, out, blk * h, h);
        }
        return out;
    }

    private static float[] flat(INDArray a) {
        return a.dup('c').reshape(a.length()).toFloatVector();
    }

    private static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9_]", "_");
    }

}
