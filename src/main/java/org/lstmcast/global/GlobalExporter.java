package org.lstmcast.global;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import org.lstmcast.export.OnnxExporter;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.model.ForecastGraph;
import org.lstmcast.model.GraphBuilder;

/**
 * Writes a global model as one ONNX graph: a raw history of any series and any length in, its forecasts (and
 * intervals) in its own units out. The graph pads and slices the window, normalises it as {@link Normaliser} does
 * (padding, log or mean scale, the shrunk seasonal profile, the level), runs the members through
 * {@link OnnxExporter#member}, the same LSTM writer as every lstmcast export, and undoes the normalisation.
 */
public final class GlobalExporter {
    private GlobalExporter() {
    }

    public static OnnxMl.ModelProto export(GlobalForecaster model, Intervals intervals, String docString,
                                           Map<String, String> metadata) {
        Normaliser norm = model.normaliser();
        int l = norm.lookback();
        int m = norm.season();
        int horizon = norm.horizon();
        GraphBuilder g = new GraphBuilder("lstmcast_global");
        g.proto().addInput(GraphBuilder.floatValue(ForecastSpec.INPUT, "batch", "sequence", 1L));
        g.proto().addOutput(GraphBuilder.floatValue(ForecastSpec.OUTPUT, "batch", (long) horizon));

        // The history as [batch, sequence], left-padded to the lookback with zeros when shorter, and which steps are real.
        String x = g.node("Squeeze", ForecastSpec.INPUT, g.longs(2));
        String shape = g.node("Shape", x);
        String steps = g.slice(shape, new long[] {1}, new long[] {2}, new long[] {0});
        String padLength = g.node("Max", g.node("Sub", g.longs(l), steps), g.longs(0));
        String pads = g.node("Concat", List.of(g.longs(0), padLength, g.longs(0), g.longs(0)),
                List.of(GraphBuilder.attr("axis", 0L)), g.fresh("pads"));
        String ones = g.node("ConstantOfShape", List.of(shape), List.of(OnnxMl.AttributeProto.newBuilder().setName("value")
                .setType(OnnxMl.AttributeProto.AttributeType.TENSOR).setT(OnnxMl.TensorProto.newBuilder()
                        .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE).addDims(1).addFloatData(1f)).build()),
                g.fresh("ones"));
        String w = last(g, g.node("Pad", x, pads), l);
        String v = last(g, g.node("Pad", ones, pads), l);

        String divisor = null;
        String y;
        if (norm.scale() == Normaliser.Scale.LOG) {
            y = g.node("Mul", g.node("Log", g.node("Max", w, scalar(g, "log_floor", (float) Normaliser.LOG_FLOOR))), v);
        } else {
            String mean = g.node("Div", reduceSum(g, g.node("Abs", w), 1), reduceSum(g, v, 1));
            divisor = g.node("Max", mean, scalar(g, "floor", (float) Normaliser.LOG_FLOOR));
            y = g.node("Div", w, divisor);
        }

        String profile = null;
        String profileByStep = null;
        if (m > 1 && l / m >= 2) {
            int k = l / m;
            String y3 = g.node("Reshape", y, g.longs(0, k, m));
            String v3 = g.node("Reshape", v, g.longs(0, k, m));
            String full = reduce(g, "ReduceMin", v3, 2);
            String mu = reduce(g, "ReduceMean", y3, 2);
            String c = reduceSum(g, full, 1);
            String cs = g.node("Max", c, scalar(g, "two", 2f));
            // The trend within a block: the mean change from the first whole block to the last, per step.
            String before = g.node("Concat", List.of(g.node("Mul", g.slice(full, new long[] {0}, new long[] {1},
                    new long[] {1}), scalar(g, "zero", 0f)), g.slice(full, new long[] {0}, new long[] {k - 1},
                    new long[] {1})), List.of(GraphBuilder.attr("axis", 1L)), g.fresh("full_before"));
            String firstFull = g.node("Mul", full, g.node("Sub", scalar(g, "one", 1f), before));
            String muFirst = reduceSum(g, g.node("Mul", mu, firstFull), 1);
            String muLast = g.slice(mu, new long[] {k - 1}, new long[] {k}, new long[] {1});
            String slope = g.node("Div", g.node("Sub", muLast, muFirst), g.node("Mul",
                    g.node("Sub", cs, scalar(g, "one", 1f)), scalar(g, "season", m)));
            float[] ramp = new float[m];
            for (int p = 0; p < m; p++) {
                ramp[p] = (float) (p - (m - 1) / 2.0);
            }
            String d = g.node("Mul", g.node("Sub", g.node("Sub", y3, mu),
                    g.node("Mul", slope, g.floats(g.fresh("ramp"), ramp, 1, 1, m))), full);
            String mean = g.node("Div", reduceSum(g, d, 1), cs);
            String r = g.node("Mul", g.node("Sub", d, mean), full);
            String rss = reduceSum(g, g.node("Mul", r, r), 1, 2);
            String noise = g.node("Div", rss, g.node("Mul", g.node("Mul", g.node("Sub", cs, scalar(g, "one", 1f)),
                    scalar(g, "season", m)), cs));
            String power = reduce(g, "ReduceMean", g.node("Mul", mean, mean), 2);
            String keep = g.node("Relu", g.node("Sub", scalar(g, "one", 1f),
                    g.node("Div", noise, g.node("Add", power, scalar(g, "tiny", (float) Normaliser.TINY)))));
            // No profile from fewer than two whole seasons: min(max(c - 1, 0), 1) is 0 there and 1 from two on.
            String enough = g.node("Min", g.node("Max", g.node("Sub", c, scalar(g, "one", 1f)), scalar(g, "zero", 0f)),
                    scalar(g, "one", 1f));
            String s = g.node("Mul", mean, g.node("Mul", keep, enough));
            profile = g.node("Reshape", g.node("Expand", s, g.longs(1, k, 1)), g.longs(0, l));
            long[] positions = new long[horizon];
            for (int h = 1; h <= horizon; h++) {
                positions[h - 1] = (h - 1) % m;
            }
            profileByStep = g.node("Gather", List.of(g.node("Reshape", s, g.longs(0, m)),
                    g.longs(g.fresh("step_positions"), positions, horizon)), List.of(GraphBuilder.attr("axis", 1L)),
                    g.fresh("profile_by_step"));
        }
        String level = g.node("Div", reduceSum(g, last(g, y, m), 1),
                g.node("Max", reduceSum(g, last(g, v, m), 1), scalar(g, "one", 1f)));
        String adjustedAll = profile == null ? y : g.node("Sub", y, profile);
        String theta = theta(g, g.node("Mul", g.node("Sub", adjustedAll, level), v), v, l, horizon);

        String adjusted = last(g, g.node("Mul", g.node("Sub", adjustedAll, level), v), norm.steps());
        String vSteps = last(g, v, norm.steps());
        List<String> features = new ArrayList<>();
        features.add(g.node("Unsqueeze", adjusted, g.longs(2)));
        features.add(g.node("Unsqueeze", profile == null ? g.node("Mul", vSteps, scalar(g, "zero", 0f))
                : g.node("Mul", last(g, profile, norm.steps()), vSteps), g.longs(2)));
        features.add(g.node("Unsqueeze", vSteps, g.longs(2)));
        String input = g.node("Concat", features, List.of(GraphBuilder.attr("axis", 2L)), g.fresh("features"));
        List<String> outputs = new ArrayList<>();
        for (var network : model.networks()) {
            outputs.add(OnnxExporter.member(g, network, horizon, input));
        }
        String o = outputs.size() == 1 ? outputs.get(0) : g.node("Mean", outputs, List.of(), g.fresh("ensemble_mean"));
        float share = (float) Normaliser.NETWORK_SHARE;
        String yhat = g.node("Add", g.node("Add", g.node("Mul", o, scalar(g, "network_share", share)),
                g.node("Mul", theta, scalar(g, "theta_share", 1 - share))), level);
        if (profileByStep != null) {
            yhat = g.node("Add", yhat, profileByStep);
        }
        if (divisor == null) {
            g.node("Exp", List.of(yhat), List.of(), ForecastSpec.OUTPUT);
        } else {
            g.node("Mul", List.of(yhat, divisor), List.of(), ForecastSpec.OUTPUT);
        }
        if (intervals != null) {
            ForecastGraph.intervals(g, intervals);
        }
        return ForecastGraph.model(g, docString, metadata);
    }

    /**
     * Theta's forecast, {@code [batch, horizon]}, of the seasonally adjusted window minus its level ({@code centred},
     * zero where padded; centring keeps float32's one-step errors accurate): simple exponential smoothing for every
     * weight of {@link Normaliser#ALPHAS} at once (one product with a matrix of smoothing coefficients, the padding
     * filled with the first real value so that it adds no error), the weights' soft minimum of squared one-step
     * errors, and half the least-squares slope.
     */
    private static String theta(GraphBuilder g, String centred, String v, int l, int horizon) {
        double[] alphas = Normaliser.ALPHAS;
        int na = alphas.length;
        String n = reduceSum(g, v, 1);
        String before = g.node("Concat", List.of(g.node("Mul", g.slice(v, new long[] {0}, new long[] {1},
                new long[] {1}), scalar(g, "zero", 0f)), g.slice(v, new long[] {0}, new long[] {l - 1}, new long[] {1})),
                List.of(GraphBuilder.attr("axis", 1L)), g.fresh("real_before"));
        String firstValue = reduceSum(g, g.node("Mul", centred, g.node("Mul", v, g.node("Sub", scalar(g, "one", 1f),
                before))), 1);
        String filled = g.node("Add", centred, g.node("Mul", firstValue, g.node("Sub", scalar(g, "one", 1f), v)));
        // levels[t][g] = sum_j coefficient[j][t][g] * filled[j]: (1 - a)^t for j = 0, a (1 - a)^(t - j) for 0 < j <= t.
        float[] coefficients = new float[l * l * na];
        for (int j = 0; j < l; j++) {
            for (int t = j; t < l; t++) {
                for (int a = 0; a < na; a++) {
                    double alpha = alphas[a];
                    double c = j == 0 ? Math.pow(1 - alpha, t) : alpha * Math.pow(1 - alpha, t - j);
                    coefficients[(j * l + t) * na + a] = (float) c;
                }
            }
        }
        String levels = g.node("Reshape", g.node("MatMul", filled, g.floats(g.fresh("smoothing"), coefficients, l,
                (long) l * na)), g.longs(0, l, na));
        String errors = g.node("Sub", g.node("Unsqueeze", g.slice(filled, new long[] {1}, new long[] {l},
                new long[] {1}), g.longs(2)), g.slice(levels, new long[] {0}, new long[] {l - 1}, new long[] {1}));
        String sse = g.node("Reshape", reduceSum(g, g.node("Mul", errors, errors), 1), g.longs(0, na));
        String least = reduce(g, "ReduceMin", sse, 1);
        String score = g.node("Exp", g.node("Div", g.node("Sub", scalar(g, "one", 1f), g.node("Div", sse,
                g.node("Add", least, scalar(g, "tiny", (float) Normaliser.TINY)))),
                scalar(g, "temperature", (float) Normaliser.TEMPERATURE)));
        String weight = g.node("Div", score, reduceSum(g, score, 1));
        String finalLevel = g.node("Reshape", g.slice(levels, new long[] {l - 1}, new long[] {l}, new long[] {1}),
                g.longs(0, na));

        float[] positions = new float[l];
        for (int t = 0; t < l; t++) {
            positions[t] = t;
        }
        String tt = g.floats(g.fresh("positions"), positions, l);
        String tMean = g.node("Div", reduceSum(g, g.node("Mul", v, tt), 1), n);
        String yMean = g.node("Div", reduceSum(g, centred, 1), n);
        String dt = g.node("Mul", g.node("Sub", tt, tMean), v);
        String sxy = reduceSum(g, g.node("Mul", dt, g.node("Sub", centred, yMean)), 1);
        String sxx = reduceSum(g, g.node("Mul", dt, dt), 1);
        String halfSlope = g.node("Mul", g.node("Div", sxy, g.node("Max", sxx, scalar(g, "tiny", (float) Normaliser.TINY))),
                scalar(g, "half", 0.5f));

        float[] oneMinus = new float[na];
        float[] inverse = new float[na];
        float[] steps = new float[horizon * na];
        for (int a = 0; a < na; a++) {
            oneMinus[a] = (float) (1 - alphas[a]);
            inverse[a] = (float) (1 / alphas[a]);
            for (int h = 1; h <= horizon; h++) {
                steps[(h - 1) * na + a] = (float) (h - 1 + 1 / alphas[a]);
            }
        }
        String tail = g.node("Mul", g.node("Pow", g.floats(g.fresh("one_minus_alpha"), oneMinus, na), n),
                g.floats(g.fresh("inverse_alpha"), inverse, na));
        String ahead = g.node("Sub", g.floats(g.fresh("steps_ahead"), steps, 1, horizon, na),
                g.node("Unsqueeze", tail, g.longs(1)));
        String byWeight = g.node("Add", g.node("Unsqueeze", finalLevel, g.longs(1)),
                g.node("Mul", g.node("Unsqueeze", halfSlope, g.longs(2)), ahead));
        return g.node("Reshape", reduceSum(g, g.node("Mul", byWeight, g.node("Unsqueeze", weight, g.longs(1))), 2),
                g.longs(0, horizon));
    }

    /** The last {@code n} steps of {@code [batch, steps]}. */
    private static String last(GraphBuilder g, String x, int n) {
        return g.slice(x, new long[] {-n}, new long[] {Long.MAX_VALUE}, new long[] {1});
    }

    private static String scalar(GraphBuilder g, String name, float value) {
        return g.floats(g.fresh(name), new float[] {value}, 1);
    }

    /** ReduceSum keeping dimensions; in opset 17 its axes are an input. */
    private static String reduceSum(GraphBuilder g, String x, long... axes) {
        return g.node("ReduceSum", List.of(x, g.longs(axes)), List.of(GraphBuilder.attr("keepdims", 1L)),
                g.fresh("sum"));
    }

    /** ReduceMin or ReduceMean keeping dimensions; in opset 17 their axes are an attribute. */
    private static String reduce(GraphBuilder g, String op, String x, long axis) {
        return g.node(op, List.of(x), List.of(GraphBuilder.attr("axes", new long[] {axis}), GraphBuilder.attr("keepdims", 1L)),
                g.fresh(op.toLowerCase(Locale.ROOT)));
    }
}
