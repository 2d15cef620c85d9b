package org.lstmcast.model;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import org.lstmcast.Version;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;

/**
 * The forecasting wrapper every lstmcast graph shares, whatever wrote its network: raw window in, the transform and the
 * scalers, the network's output unscaled and its levels rebuilt, the interval outputs, and the model header.
 */
public final class ForecastGraph {
    public static final int OPSET = 17;
    /** IR version 8 is what opset 17 shipped with; older ONNX tooling (onnx 1.12) checks files up to it. */
    public static final int IR_VERSION = 8;

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
        if (pre.transform() == Transform.LEVEL) {
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
            if (Arrays.stream(pre.anchorCarry()).anyMatch(c -> c != 0)) {
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
        if (pre.transform() == Transform.DIFF) {
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

    public static float[] toFloat(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            f[i] = (float) d[i];
        }
        return f;
    }

    private ForecastGraph() {
    }
}
