package org.lstmcast.convert.keras;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jhdf.HdfFile;
import io.jhdf.api.Attribute;
import io.jhdf.api.Dataset;
import io.jhdf.api.Group;
import io.jhdf.api.Node;
import org.lstmcast.model.Activation;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.Layer;
import org.lstmcast.model.Network;

/**
 * Reads a Keras model saved in the HDF5 format (Keras 2.x, tf.keras 2.x, and Keras 3's legacy {@code .h5}) into a
 * {@link Network}: the architecture from the {@code model_config} JSON, the weights from {@code model_weights}.
 *
 * <p>Read directly rather than through DL4J's Keras import, which hangs initialising layers of 32 units or more
 * with Keras's default Orthogonal initializer, refuses Keras 3 files and fails on newer training configs; a reader of
 * the file layout needs none of that and sees every weight exactly as Keras stored it.
 */
public final class KerasReader {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** 64 M float weights (256 MB): far above any LSTM forecaster, far below what would hurt a server that converts. */
    static final long MAX_WEIGHTS = 64L << 20;
    /** Time steps a RepeatVector may create. */
    private static final int MAX_REPEAT = 100_000;
    private static final Set<String> INFERENCE_IDENTITY = Set.of("Dropout", "SpatialDropout1D", "GaussianNoise",
            "GaussianDropout", "AlphaDropout", "ActivityRegularization");
    static final String SUPPORTED = "InputLayer, LSTM, GRU, SimpleRNN, Bidirectional, Dense, TimeDistributed(Dense), "
            + "Activation, Dropout, Flatten, Reshape, RepeatVector, Masking";

    private final JsonNode config;
    private final int kerasMajor;
    private final String kerasVersion;
    private final Map<String, List<float[]>> weights;
    private final Map<String, List<int[]>> shapes;
    private int steps = -1;
    private int features = -1;

    private KerasReader(JsonNode config, String kerasVersion, Map<String, List<float[]>> weights,
                        Map<String, List<int[]>> shapes) {
        this.config = config;
        this.kerasVersion = kerasVersion;
        this.kerasMajor = major(kerasVersion);
        this.weights = weights;
        this.shapes = shapes;
    }

    /**
     * @param configJson a separate architecture file (from {@code model.to_json()}) for a file that holds weights
     *                   only ({@code save_weights}); null to read the architecture from the file itself
     */
    public static Network read(Path h5, Path configJson) throws IOException {
        try (HdfFile file = new HdfFile(h5)) {
            Group weightsRoot = file.getChild("model_weights") instanceof Group g ? g : file;
            String version = text(file.getAttribute("keras_version"));
            if (version == null) {
                version = text(weightsRoot.getAttribute("keras_version"));
            }
            String configText = configJson != null ? Files.readString(configJson) : text(file.getAttribute("model_config"));
            if (configText == null) {
                throw new ConversionException(h5.getFileName() + " holds weights but no model_config: it was saved with "
                        + "save_weights; pass the architecture (model.to_json()) with --keras-config");
            }
            JsonNode cfg = JSON.readTree(configText);
            if (cfg.has("model_config")) {
                cfg = cfg.get("model_config");
            }
            Map<String, List<float[]>> w = new HashMap<>();
            Map<String, List<int[]>> s = new HashMap<>();
            long total = 0;
            for (String layer : strings(weightsRoot.getAttribute("layer_names"))) {
                if (!(weightsRoot.getChild(layer) instanceof Group group)) {
                    continue;
                }
                List<float[]> values = new ArrayList<>();
                List<int[]> dims = new ArrayList<>();
                for (String name : strings(group.getAttribute("weight_names"))) {
                    Node node = group.getByPath(name);
                    if (!(node instanceof Dataset d)) {
                        throw new ConversionException("weight " + name + " of layer " + layer + " is missing from the file");
                    }
                    total += d.getSize();
                    if (d.getSize() < 0 || total > MAX_WEIGHTS) {
                        // Checked before reading: a crafted header could otherwise ask for any amount of memory.
                        throw new ConversionException(h5.getFileName() + " declares more than " + MAX_WEIGHTS
                                + " weights; refused");
                    }
                    values.add(floats(d.getDataFlat(), name));
                    dims.add(d.getDimensions());
                }
                w.put(layer, values);
                s.put(layer, dims);
            }
            KerasReader reader = new KerasReader(cfg, version == null ? "2" : version, w, s);
            return reader.network();
        } catch (JacksonException e) {
            throw new ConversionException("the Keras model_config is not valid JSON: " + e.getOriginalMessage());
        } catch (ConversionException e) {
            throw e;
        } catch (RuntimeException e) {
            // The HDF5 reader reports damaged structures with assorted runtime exceptions: all mean an unreadable file.
            throw ConversionException.unreadable(h5.getFileName() + " cannot be read as a Keras HDF5 file (truncated or "
                    + "damaged?): " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private Network network() {
        String cls = config.path("class_name").asText();
        JsonNode layerConfigs = switch (cls) {
            case "Sequential" -> config.get("config").isArray() ? config.get("config") : config.get("config").get("layers");
            case "Model", "Functional" -> chain(config.get("config"));
            default -> throw new ConversionException("model class " + cls + " is not supported: only Sequential and "
                    + "functional models that are a single chain of layers");
        };
        List<Layer> layers = new ArrayList<>();
        for (JsonNode layer : layerConfigs) {
            Layer converted = layer(layer.path("class_name").asText(), layer.get("config"), layerName(layer));
            if (converted != null) {
                layers.add(converted);
            }
        }
        if (features < 1) {
            throw new ConversionException("the model's input shape is not in its config (no batch_input_shape)");
        }
        return new Network(steps, features, layers, "Keras " + kerasVersion);
    }

    /** A functional model qualifies when every layer takes exactly the previous one: one input, one output. */
    private static JsonNode chain(JsonNode cfg) {
        JsonNode layers = cfg.get("layers");
        String previous = null;
        for (JsonNode layer : layers) {
            List<String> inbound = new ArrayList<>();
            collectInbound(layer.get("inbound_nodes"), inbound);
            String name = layerName(layer);
            boolean ok = previous == null ? inbound.isEmpty() : inbound.size() == 1 && inbound.get(0).equals(previous);
            if (!ok) {
                throw new ConversionException("functional model: layer '" + name + "' takes " + inbound + " instead of "
                        + (previous == null ? "nothing" : "only '" + previous + "'")
                        + "; only models that are one chain of layers convert");
            }
            previous = name;
        }
        if (cfg.path("output_layers").size() != 1 || cfg.path("input_layers").size() > 1
                && cfg.get("input_layers").get(0).isArray()) {
            throw new ConversionException("functional model with several inputs or outputs: only one of each converts");
        }
        return layers;
    }

    /** Keras 2 writes {@code [[["name", 0, 0, {}]]]}; Keras 3 writes {@code keras_history: ["name", 0, 0]}. */
    private static void collectInbound(JsonNode node, List<String> names) {
        if (node == null) {
            return;
        }
        if (node.isObject()) {
            JsonNode history = node.get("keras_history");
            if (history != null && history.isArray()) {
                names.add(history.get(0).asText());
                return;
            }
            node.fields().forEachRemaining(e -> collectInbound(e.getValue(), names));
        } else if (node.isArray()) {
            if (node.size() >= 3 && node.get(0).isTextual() && node.get(1).isNumber()) {
                names.add(node.get(0).asText());
                return;
            }
            node.forEach(n -> collectInbound(n, names));
        }
    }

    private static String layerName(JsonNode layer) {
        return layer.has("name") ? layer.get("name").asText() : layer.path("config").path("name").asText();
    }

    private Layer layer(String cls, JsonNode c, String name) {
        inputShape(c);
        if (INFERENCE_IDENTITY.contains(cls)) {
            return null;
        }
        return switch (cls) {
            case "InputLayer" -> null;
            case "LSTM", "GRU", "SimpleRNN" -> recurrent(cls, c, name, weights(name), shapes(name));
            case "Bidirectional" -> bidirectional(c, name);
            case "Dense" -> dense(c, name);
            case "TimeDistributed" -> {
                JsonNode inner = c.get("layer");
                if (!"Dense".equals(inner.path("class_name").asText())) {
                    throw new ConversionException("layer '" + name + "' is TimeDistributed(" + inner.path("class_name").asText()
                            + "): only TimeDistributed(Dense) converts");
                }
                yield dense(inner.get("config"), name);
            }
            case "Activation" -> new Layer.Act(activation(c.get("activation")));
            case "Flatten" -> new Layer.Flatten();
            case "Reshape" -> {
                int[] target = new int[c.get("target_shape").size()];
                for (int i = 0; i < target.length; i++) {
                    target[i] = c.get("target_shape").get(i).isNull() ? -1 : c.get("target_shape").get(i).asInt();
                }
                if (target.length < 1 || target.length > 2) {
                    throw new ConversionException("layer '" + name + "' reshapes to rank " + (target.length + 1)
                            + "; only [batch, n] and [batch, time, features] convert");
                }
                yield new Layer.Reshape(target);
            }
            case "RepeatVector" -> {
                int n = c.path("n").asInt(-1);
                if (n < 1 || n > MAX_REPEAT) {
                    throw new ConversionException("layer '" + name + "': RepeatVector(" + c.path("n") + ") must repeat 1 to "
                            + MAX_REPEAT + " times");
                }
                yield new Layer.RepeatVector(n);
            }
            case "Masking" -> new Layer.Masking(c.path("mask_value").asDouble(0.0));
            default -> throw new ConversionException("layer '" + name + "' (" + cls + ") is not supported; layers that convert: "
                    + SUPPORTED);
        };
    }

    private void inputShape(JsonNode c) {
        JsonNode shape = c.has("batch_input_shape") ? c.get("batch_input_shape") : c.get("batch_shape");
        if (shape == null || features > 0) {
            return;
        }
        if (shape.size() != 3) {
            throw new ConversionException("the model's input is " + shape + "; a sequence model takes [batch, time, features]");
        }
        steps = shape.get(1).isNull() ? -1 : shape.get(1).asInt();
        features = shape.get(2).asInt();
        if (steps == 0 || steps < -1 || steps > MAX_REPEAT || features < 1 || features > MAX_REPEAT) {
            throw new ConversionException("the model's input " + shape + " is outside 1..." + MAX_REPEAT + " steps and features");
        }
    }

    private Layer.Recurrent recurrent(String cls, JsonNode c, String name, List<float[]> w, List<int[]> dims) {
        if (c.path("stateful").asBoolean(false)) {
            throw new ConversionException("layer '" + name + "' is stateful: it carries state from one batch to the next, "
                    + "which a served model cannot; save it with stateful=False");
        }
        if (c.path("return_state").asBoolean(false)) {
            throw new ConversionException("layer '" + name + "' returns its state as extra outputs; only return_state=False converts");
        }
        if (c.path("time_major").asBoolean(false)) {
            throw new ConversionException("layer '" + name + "' is time-major inside a Keras model; not supported");
        }
        Layer.Cell cell = switch (cls) {
            case "LSTM" -> Layer.Cell.LSTM;
            case "GRU" -> Layer.Cell.GRU;
            default -> Layer.Cell.RNN;
        };
        boolean useBias = c.path("use_bias").asBoolean(true);
        if (w.size() != (useBias ? 3 : 2)) {
            throw new ConversionException("layer '" + name + "' has " + w.size() + " weight arrays, expected "
                    + (useBias ? 3 : 2) + " (kernel, recurrent kernel" + (useBias ? ", bias)" : ")"));
        }
        int units = c.path("units").asInt(-1);
        if (dims.size() < 2 || dims.get(0).length != 2 || dims.get(1).length != 2 || dims.get(1)[0] != units
                || (long) dims.get(1)[1] != (long) cell.gates * units) {
            throw new ConversionException("layer '" + name + "': units " + c.path("units") + " do not match its weights");
        }
        int width = cell.gates * units;
        int in = dims.get(0)[0];
        float[] bias = new float[width];
        float[] recurrentBias = new float[width];
        boolean resetAfter = false;
        if (useBias) {
            float[] b = w.get(2);
            if (b.length == 2 * width && cell == Layer.Cell.GRU) {
                // GRU with reset_after keeps [input bias; recurrent bias] as a 2 x 3U array.
                resetAfter = true;
                System.arraycopy(b, 0, bias, 0, width);
                System.arraycopy(b, width, recurrentBias, 0, width);
            } else if (b.length == width) {
                bias = b;
            } else {
                throw new ConversionException("layer '" + name + "': bias has " + b.length + " values, expected " + width);
            }
        }
        if (cell == Layer.Cell.GRU && c.has("reset_after") && c.get("reset_after").asBoolean() != resetAfter) {
            if (!useBias) {
                resetAfter = c.get("reset_after").asBoolean();
            } else {
                throw new ConversionException("layer '" + name + "': reset_after=" + c.get("reset_after")
                        + " does not match its bias shape");
            }
        }
        Activation act = activation(c.get("activation"));
        Activation rec = cell == Layer.Cell.RNN ? act : activation(c.get("recurrent_activation"));
        return new Layer.Recurrent(cell, units, in, act, rec, matrix(w.get(0), in, width, name),
                matrix(w.get(1), units, width, name), bias, recurrentBias, resetAfter,
                c.path("return_sequences").asBoolean(false), c.path("go_backwards").asBoolean(false));
    }

    private Layer bidirectional(JsonNode c, String name) {
        JsonNode inner = c.get("layer");
        String cls = inner.path("class_name").asText();
        if (!Set.of("LSTM", "GRU", "SimpleRNN").contains(cls)) {
            throw new ConversionException("layer '" + name + "' is Bidirectional(" + cls + "): only LSTM, GRU and SimpleRNN convert");
        }
        if (!c.hasNonNull("merge_mode")) {
            throw new ConversionException("layer '" + name + "' has merge_mode None (two outputs); use concat, sum, mul or ave");
        }
        Layer.Merge merge = switch (c.get("merge_mode").asText()) {
            case "concat" -> Layer.Merge.CONCAT;
            case "sum" -> Layer.Merge.SUM;
            case "mul" -> Layer.Merge.MUL;
            case "ave" -> Layer.Merge.AVE;
            default -> throw new ConversionException("layer '" + name + "': merge_mode " + c.get("merge_mode") + " is not supported");
        };
        inputShape(inner.get("config"));
        List<float[]> w = weights(name);
        List<int[]> dims = shapes(name);
        int half = w.size() / 2;
        if (w.size() % 2 != 0 || half == 0) {
            throw new ConversionException("layer '" + name + "' has " + w.size() + " weight arrays; expected two equal halves");
        }
        // Keras stores the forward layer's weights first, then the backward layer's.
        Layer.Recurrent fwd = recurrent(cls, inner.get("config"), name, w.subList(0, half), dims.subList(0, half));
        JsonNode backCfg = c.has("backward_layer") ? c.get("backward_layer").get("config") : inner.get("config");
        Layer.Recurrent bwd = recurrent(cls, backCfg, name, w.subList(half, w.size()), dims.subList(half, w.size()));
        return new Layer.Bidirectional(fwd.withDirection(false, fwd.returnSequences()),
                bwd.withDirection(true, fwd.returnSequences()), merge);
    }

    private Layer dense(JsonNode c, String name) {
        List<float[]> w = weights(name);
        List<int[]> dims = shapes(name);
        boolean useBias = c.path("use_bias").asBoolean(true);
        if (w.size() != (useBias ? 2 : 1) || dims.get(0).length != 2) {
            throw new ConversionException("layer '" + name + "' has unexpected weights for a Dense layer");
        }
        int in = dims.get(0)[0];
        int out = dims.get(0)[1];
        return new Layer.Dense(matrix(w.get(0), in, out, name), useBias ? w.get(1) : null, activation(c.get("activation")));
    }

    private Activation activation(JsonNode node) {
        if (node == null || node.isNull()) {
            return Activation.LINEAR;
        }
        if (node.isObject()) {
            // Keras 3 may serialise a built-in activation as {"class_name": "function", "config": "relu"}.
            JsonNode cfg = node.path("config");
            String n = cfg.isTextual() ? cfg.asText() : cfg.path("name").asText(node.path("class_name").asText());
            return Activation.keras(n, kerasMajor);
        }
        return Activation.keras(node.asText(), kerasMajor);
    }

    private List<float[]> weights(String layer) {
        List<float[]> w = weights.get(layer);
        if (w == null) {
            throw new ConversionException("layer '" + layer + "' has no weights in the file");
        }
        return w;
    }

    private List<int[]> shapes(String layer) {
        return shapes.getOrDefault(layer, List.of());
    }

    private static float[][] matrix(float[] flat, int rows, int cols, String name) {
        if (flat.length != rows * cols) {
            throw new ConversionException("layer '" + name + "': a weight has " + flat.length + " values, expected "
                    + rows + " x " + cols);
        }
        float[][] m = new float[rows][cols];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(flat, r * cols, m[r], 0, cols);
        }
        return m;
    }

    private static float[] floats(Object data, String name) {
        if (data instanceof float[] f) {
            return f;
        }
        if (data instanceof double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
        throw new ConversionException("weight " + name + " is not floating point");
    }

    private static String text(Attribute a) {
        Object data = a == null || a.isEmpty() ? null : a.getData();
        if (data == null) {
            return null;
        }
        if (data instanceof String s) {
            return s;
        }
        if (data instanceof String[] arr && arr.length > 0) {
            return arr[0];
        }
        if (data instanceof byte[] b) {
            return new String(b, StandardCharsets.UTF_8);
        }
        return String.valueOf(data);
    }

    private static List<String> strings(Attribute a) {
        // An empty attribute (a layer without weights) reads as null.
        Object data = a == null || a.isEmpty() ? null : a.getData();
        if (data == null) {
            return List.of();
        }
        if (data instanceof String[] arr) {
            return List.of(arr);
        }
        if (data instanceof String s) {
            return List.of(s);
        }
        throw new ConversionException("unexpected attribute type " + data.getClass().getSimpleName() + " for " + a.getName());
    }

    private static int major(String version) {
        try {
            return Integer.parseInt(version.trim().split("[.]")[0]);
        } catch (NumberFormatException e) {
            return 2;
        }
    }
}
