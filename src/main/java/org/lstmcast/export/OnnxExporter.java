package org.lstmcast.export;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.lstmcast.Text;
import org.lstmcast.Version;
import org.lstmcast.convert.dl4j.Dl4jReader;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.model.ForecastGraph;
import org.lstmcast.model.GraphBuilder;
import org.lstmcast.model.Network;
import org.lstmcast.model.NetworkWriter;
import org.lstmcast.train.ModelFile;

/**
 * Writes a trained lstmcast network as a self-contained ONNX model (opset 17): raw values in, forecasts in
 * original units out, with the window transform, the scalers and the rebuilding of levels as graph operators.
 *
 * <p>Graph: {@code input [batch, seq, features]} → last {@code lookback} steps → transform and scale → each
 * member's network, read into the model description and written by {@link NetworkWriter} as converted networks are →
 * their mean → unscale → rebuild levels → {@code forecast [batch, horizon]}.
 */
public final class OnnxExporter {
    private OnnxExporter() {
    }

    public static OnnxMl.ModelProto export(MultiLayerNetwork net, ModelFile.Info info) {
        return export(List.of(net), info);
    }

    /**
     * An ensemble side by side in one graph: each member's LSTMs and head read the same transformed window, and
     * {@code Mean} combines their scaled outputs, as {@link org.lstmcast.train.Forecaster} does, before the levels are
     * rebuilt.
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
            ForecastGraph.rebuild(g, pre, g.floats(g.fresh("out_shift"), ForecastGraph.toFloat(pre.outShift()), 1, pre.horizon()));
        } else {
            String window = g.slice(ForecastSpec.INPUT, new long[] {-pre.lookback()}, new long[] {Long.MAX_VALUE},
                    new long[] {1});
            String z = ForecastGraph.transform(g, pre, window);
            List<String> outputs = new ArrayList<>();
            for (MultiLayerNetwork net : nets) {
                outputs.add(member(g, net, pre.horizon(), z));
            }
            String y = outputs.size() == 1 ? outputs.get(0) : g.node("Mean", outputs, List.of(), g.fresh("ensemble_mean"));
            ForecastGraph.unscaleAndRebuild(g, pre, y);
        }
        Intervals intervals = info.predictionIntervals();
        if (intervals != null) {
            ForecastGraph.intervals(g, intervals);
        }
        return ForecastGraph.model(g, docString(info), metadata(info));
    }

    /** Whether a network's output layer is all zeros, so that it outputs exactly 0 whatever its LSTMs compute. */
    private static boolean zeroHead(MultiLayerNetwork net) {
        org.deeplearning4j.nn.api.Layer head = net.getLayer(net.getnLayers() - 1);
        return head.getParam("W").amaxNumber().doubleValue() == 0 && head.getParam("b").amaxNumber().doubleValue() == 0;
    }

    /**
     * One network on the batch-major input {@code z} ({@code [batch, steps, features]}); returns its {@code [batch,
     * horizon]}. lstmcast's own networks go through the same description and writer as converted ones.
     */
    public static String member(GraphBuilder g, MultiLayerNetwork net, int horizon, String z) {
        Network network = Dl4jReader.network(net);
        if (!(network.layers().get(network.layers().size() - 1) instanceof org.lstmcast.model.Layer.Dense head)
                || head.kernel()[0].length != horizon) {
            throw new IllegalArgumentException("the network does not end in a linear head of " + horizon + " outputs, the "
                    + "model's horizon");
        }
        return NetworkWriter.write(g, network, z);
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
        String inputs = info.features().size() == 1 ? Text.possessive(info.target()) + " own history"
                : "the history of " + String.join(", ", info.features());
        return String.format(Locale.ROOT,
                "Forecasts the next %d value%s of %s from the last %d rows of %s. Input 'input' [batch, sequence >= %d, %d]"
                        + " float32, raw values, oldest first; output 'forecast' [batch, %d] in the units of %s."
                        + " LSTM trained by lstmcast %s (transform %s).",
                info.horizon(), info.horizon() == 1 ? "" : "s", info.target(), info.lookback(), inputs, info.lookback(),
                info.features().size(), info.horizon(), info.target(), Version.get(), info.transform());
    }

    private static String sanitize(String s) {
        return s.replaceAll("[^A-Za-z0-9_]", "_");
    }

}
