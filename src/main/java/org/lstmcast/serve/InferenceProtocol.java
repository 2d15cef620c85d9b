package org.lstmcast.serve;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import com.fasterxml.jackson.databind.JsonNode;
import org.lstmcast.forecast.Ort;
import org.lstmcast.forecast.OrtErrors;
import org.lstmcast.forecast.TensorCheck;

/**
 * The Open Inference Protocol (KServe V2) {@code infer} call on any model with float inputs: tensors in, tensors out,
 * no forecasting logic. FP64 and integer data are coerced to the model's FP32; {@code data} may be flat or nested.
 */
final class InferenceProtocol {
    private static final Set<String> NUMERIC = Set.of("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64",
            "UINT8", "UINT16", "UINT32", "UINT64");
    private static final long MAX_ELEMENTS = 16L << 20;

    private InferenceProtocol() {
    }

    static Map<String, Object> infer(ModelVersion model, JsonNode body) throws OrtException {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object with 'inputs'");
        }
        OrtSession session = model.session();
        Map<String, NodeInfo> declared = session.getInputInfo();
        JsonNode inputs = body.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw ApiException.badRequest("'inputs' must be a non-empty array of tensors");
        }
        Map<String, OnnxTensor> feeds = new HashMap<>();
        try {
            for (JsonNode in : inputs) {
                String name = text(in, "name");
                NodeInfo info = declared.get(name);
                if (info == null) {
                    throw ApiException.badRequest("unknown input '" + name + "'; the model's inputs are " + declared.keySet());
                }
                if (feeds.containsKey(name)) {
                    throw ApiException.badRequest("input '" + name + "' given twice");
                }
                if (!(info.getInfo() instanceof TensorInfo declaredInfo)) {
                    throw ApiException.badRequest("input '" + name + "' is not a tensor; this server feeds tensors only");
                }
                // The forecaster's own input must also be as long as the model reads: its graph slices that many steps.
                int minSequence = model.spec != null && model.spec.inputName().equals(name) ? model.spec.lookback() : 0;
                feeds.put(name, tensor(in, name, declaredInfo, minSequence, model.spec == null ? 1 : model.spec.sequenceAxis()));
            }
            if (!feeds.keySet().equals(declared.keySet())) {
                Set<String> missing = new LinkedHashSet<>(declared.keySet());
                missing.removeAll(feeds.keySet());
                throw ApiException.badRequest("missing input(s) " + missing);
            }
            Set<String> wanted = requestedOutputs(body, session.getOutputNames());
            List<Map<String, Object>> outputs = new ArrayList<>();
            try (OrtSession.Result result = OrtErrors.run(session, feeds, wanted)) {
                for (Map.Entry<String, OnnxValue> e : result) {
                    outputs.add(output(e.getKey(), e.getValue()));
                }
            }
            Map<String, Object> response = new LinkedHashMap<>();
            response.put("model_name", model.name);
            response.put("model_version", Long.toString(model.version));
            if (body.hasNonNull("id")) {
                response.put("id", body.get("id").asText());
            }
            response.put("outputs", outputs);
            return response;
        } finally {
            feeds.values().forEach(OnnxTensor::close);
        }
    }

    private static Set<String> requestedOutputs(JsonNode body, Set<String> available) {
        JsonNode outs = body.get("outputs");
        if (outs == null || outs.isNull()) {
            return available;
        }
        if (!outs.isArray()) {
            throw ApiException.badRequest("'outputs' must be an array of {\"name\": ...}");
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (JsonNode o : outs) {
            String name = text(o, "name");
            if (!available.contains(name)) {
                throw ApiException.badRequest("unknown output '" + name + "'; the model's outputs are " + available);
            }
            wanted.add(name);
        }
        return wanted.isEmpty() ? available : wanted;
    }

    /**
     * The tensor an input describes, checked against the model's declared input before anything native is made: a
     * shape ONNX Runtime cannot run (a zero-length dimension aborts the process), a rank or fixed dimension that
     * differs, a data length that does not match the shape, a sequence shorter than the model reads.
     */
    private static OnnxTensor tensor(JsonNode in, String name, TensorInfo info, int minSequence, int sequenceAxis)
            throws OrtException {
        if (info.type != OnnxJavaType.FLOAT) {
            throw ApiException.badRequest("input '" + name + "' is " + info.type + "; only FLOAT inputs are served");
        }
        String datatype = text(in, "datatype").toUpperCase(java.util.Locale.ROOT);
        if (!NUMERIC.contains(datatype)) {
            throw ApiException.badRequest("input '" + name + "': datatype " + datatype + " cannot feed a FLOAT input");
        }
        JsonNode shapeNode = in.get("shape");
        if (shapeNode == null || !shapeNode.isArray()) {
            throw ApiException.badRequest("input '" + name + "' needs a 'shape' array");
        }
        long[] shape = new long[shapeNode.size()];
        for (int i = 0; i < shape.length; i++) {
            JsonNode d = shapeNode.get(i);
            if (!d.isIntegralNumber() || !d.canConvertToLong()) {
                throw ApiException.badRequest("input '" + name + "': shape must hold whole numbers, got " + shapeNode);
            }
            shape[i] = d.asLong();
        }
        TensorCheck.shape(name, shape, info.getShape());
        if (minSequence > 0) {
            TensorCheck.sequence(name, shape, sequenceAxis, minSequence);
        }
        long count = 1;
        for (long d : shape) {
            // Every dimension is at least 1 here, so the product only grows: stop before it can overflow.
            count *= d;
            if (count > MAX_ELEMENTS) {
                throw ApiException.badRequest("input '" + name + "' has shape " + java.util.Arrays.toString(shape)
                        + ": more than " + MAX_ELEMENTS + " elements");
            }
        }
        JsonNode data = in.get("data");
        if (data == null) {
            throw ApiException.badRequest("input '" + name + "' needs 'data'");
        }
        // Counted before anything is allocated: a small body must not make the server reserve a large buffer.
        long given = count(data);
        if (given != count) {
            throw ApiException.badRequest("input '" + name + "' has " + given + " values; shape "
                    + java.util.Arrays.toString(shape) + " needs " + count);
        }
        FloatBuffer buf = ByteBuffer.allocateDirect((int) (4 * count)).order(ByteOrder.nativeOrder()).asFloatBuffer();
        flatten(data, buf, name, count);
        if (buf.position() != count) {
            throw ApiException.badRequest("input '" + name + "' has " + buf.position() + " values; shape "
                    + java.util.Arrays.toString(shape) + " needs " + count);
        }
        buf.rewind();
        return OnnxTensor.createTensor(Ort.environment(), buf, shape);
    }

    /** The leaves of nested arrays (a non-array counts as one); iterative, as deep input must not exhaust the stack. */
    private static long count(JsonNode node) {
        if (!node.isArray()) {
            return 1;
        }
        long n = 0;
        java.util.ArrayDeque<JsonNode> todo = new java.util.ArrayDeque<>();
        todo.push(node);
        while (!todo.isEmpty()) {
            for (JsonNode child : todo.pop()) {
                if (child.isArray()) {
                    todo.push(child);
                } else {
                    n++;
                }
            }
        }
        return n;
    }

    private static void flatten(JsonNode node, FloatBuffer out, String name, long limit) {
        // Iterative, so deeply nested input cannot exhaust the stack.
        java.util.ArrayDeque<java.util.Iterator<JsonNode>> stack = new java.util.ArrayDeque<>();
        if (!node.isArray()) {
            throw ApiException.badRequest("input '" + name + "': 'data' must be an array");
        }
        stack.push(node.elements());
        while (!stack.isEmpty()) {
            java.util.Iterator<JsonNode> it = stack.peek();
            if (!it.hasNext()) {
                stack.pop();
                continue;
            }
            JsonNode n = it.next();
            if (n.isArray()) {
                stack.push(n.elements());
            } else {
                if (out.position() >= limit) {
                    throw ApiException.badRequest("input '" + name + "' has more values than its shape holds");
                }
                out.put((float) Requests.number(n, "input '" + name + "' data"));
            }
        }
    }

    private static Map<String, Object> output(String name, OnnxValue value) throws OrtException {
        if (!(value instanceof OnnxTensor t)) {
            throw ApiException.badRequest("output '" + name + "' is not a tensor, which this server does not encode; ask for other outputs");
        }
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("name", name);
        o.put("shape", t.getInfo().getShape());
        switch (t.getInfo().type) {
            case FLOAT -> {
                o.put("datatype", "FP32");
                FloatBuffer b = t.getFloatBuffer();
                float[] f = new float[b.remaining()];
                b.get(f);
                o.put("data", f);
            }
            case DOUBLE -> {
                o.put("datatype", "FP64");
                java.nio.DoubleBuffer b = t.getDoubleBuffer();
                double[] d = new double[b.remaining()];
                b.get(d);
                o.put("data", d);
            }
            case INT64 -> {
                o.put("datatype", "INT64");
                java.nio.LongBuffer b = t.getLongBuffer();
                long[] l = new long[b.remaining()];
                b.get(l);
                o.put("data", l);
            }
            case INT32 -> {
                o.put("datatype", "INT32");
                java.nio.IntBuffer b = t.getIntBuffer();
                int[] i = new int[b.remaining()];
                b.get(i);
                o.put("data", i);
            }
            default -> throw new ApiException(400, "output '" + name + "' has type " + t.getInfo().type
                    + ", which this server does not encode; ask for other outputs");
        }
        return o;
    }

    /** The protocol's tensor metadata: name, datatype, shape with -1 for variable dims. */
    static List<Map<String, Object>> describe(Map<String, NodeInfo> nodes) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (NodeInfo n : nodes.values()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", n.getName());
            if (n.getInfo() instanceof TensorInfo t) {
                m.put("datatype", datatype(t.type));
                m.put("shape", t.getShape());
            }
            out.add(m);
        }
        return out;
    }

    static String datatype(OnnxJavaType t) {
        return switch (t) {
            case FLOAT -> "FP32";
            case DOUBLE -> "FP64";
            case FLOAT16 -> "FP16";
            case INT8 -> "INT8";
            case INT16 -> "INT16";
            case INT32 -> "INT32";
            case INT64 -> "INT64";
            case UINT8 -> "UINT8";
            case BOOL -> "BOOL";
            case STRING -> "BYTES";
            default -> t.toString();
        };
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n == null ? null : n.get(key);
        if (v == null || !v.isTextual()) {
            throw ApiException.badRequest("'" + key + "' must be a string");
        }
        return v.asText();
    }
}
