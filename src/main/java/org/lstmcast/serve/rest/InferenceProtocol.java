package org.lstmcast.serve.rest;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntPredicate;

import com.fasterxml.jackson.databind.JsonNode;
import org.lstmcast.serve.ApiException;
import org.lstmcast.serve.Inference;
import org.lstmcast.serve.TensorDescription;

/**
 * The Open Inference Protocol's {@code infer} call over REST: JSON tensors ({@code data} flat or nested), and Triton's
 * binary tensor data extension, where a JSON header of {@code Inference-Header-Content-Length} bytes is followed by
 * the raw bytes of the inputs that name a {@code binary_data_size}, and outputs come back the same way when asked.
 */
final class InferenceProtocol {
    static final String HEADER_LENGTH = "Inference-Header-Content-Length";

    /** An answer: its JSON, and when outputs travel as binary, the bytes that follow it. */
    record Answer(byte[] json, byte[] binary) {
    }

    private InferenceProtocol() {
    }

    /**
     * A request in the core's terms, and which of its outputs the client asked for as binary.
     */
    record Call(Inference.Request request, IntPredicate binaryOutput) {
        Answer answer(Inference.Result result) {
            return InferenceProtocol.answer(result, binaryOutput);
        }
    }

    /**
     * Reads and checks a JSON body, or the JSON header of a binary one, into a {@link Call}; nothing is run.
     *
     * @param binary the bytes after the JSON header (empty without the binary extension)
     */
    static Call call(JsonNode body, ByteBuffer binary) {
        if (body == null || !body.isObject()) {
            throw ApiException.badRequest("the body must be a JSON object with 'inputs'");
        }
        JsonNode inputs = body.get("inputs");
        if (inputs == null || !inputs.isArray() || inputs.isEmpty()) {
            throw ApiException.badRequest("'inputs' must be a non-empty array of tensors");
        }
        List<Inference.Input> parsed = new ArrayList<>();
        ByteBuffer rest = binary.slice();
        for (JsonNode in : inputs) {
            parsed.add(input(in, rest));
        }
        if (rest.hasRemaining()) {
            throw ApiException.badRequest(rest.remaining() + " bytes after the JSON header are claimed by no input's "
                    + "binary_data_size");
        }
        JsonNode outs = body.get("outputs");
        List<String> names = new ArrayList<>();
        List<Boolean> binaryAsked = new ArrayList<>();
        boolean allBinary = body.path("parameters").path("binary_data_output").asBoolean(false);
        if (outs != null && !outs.isNull()) {
            if (!outs.isArray()) {
                throw ApiException.badRequest("'outputs' must be an array of {\"name\": ...}");
            }
            for (JsonNode o : outs) {
                names.add(text(o, "name"));
                JsonNode flag = o.path("parameters").path("binary_data");
                binaryAsked.add(flag.isBoolean() ? flag.asBoolean() : allBinary);
            }
        }
        String id = body.hasNonNull("id") ? body.get("id").asText() : null;
        return new Call(new Inference.Request(id, parsed, names), i -> i < binaryAsked.size() ? binaryAsked.get(i) : allBinary);
    }

    private static Answer answer(Inference.Result result, IntPredicate asBinary) {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("model_name", result.modelName());
        response.put("model_version", result.modelVersion());
        if (result.id() != null) {
            response.put("id", result.id());
        }
        List<Map<String, Object>> outputs = new ArrayList<>();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < result.outputs().size(); i++) {
            Inference.Output out = result.outputs().get(i);
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("name", out.name());
            o.put("datatype", out.datatype());
            o.put("shape", out.shape());
            if (asBinary.test(i)) {
                byte[] raw = out.littleEndian();
                o.put("parameters", Map.of("binary_data_size", raw.length));
                bytes.writeBytes(raw);
            } else {
                o.put("data", out.data());
            }
            outputs.add(o);
        }
        response.put("outputs", outputs);
        return new Answer(Json.bytes(response), bytes.size() == 0 ? null : bytes.toByteArray());
    }

    /** The length of the JSON part of a body, from the binary extension's header; the whole body without it. */
    static int headerLength(String header, int bodyLength) {
        if (header == null) {
            return bodyLength;
        }
        long n;
        try {
            n = Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(HEADER_LENGTH + " must be a whole number, got '" + abbreviate(header) + "'");
        }
        if (n < 1 || n > bodyLength) {
            throw ApiException.badRequest(HEADER_LENGTH + " is " + n + "; the body has " + bodyLength + " bytes");
        }
        return (int) n;
    }

    private static Inference.Input input(JsonNode in, ByteBuffer binary) {
        if (in == null || !in.isObject()) {
            throw ApiException.badRequest("each input must be an object with name, shape, datatype and data");
        }
        String name = text(in, "name");
        String datatype = text(in, "datatype");
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
        JsonNode size = in.path("parameters").get("binary_data_size");
        if (size != null) {
            if (!size.canConvertToLong() || !size.isIntegralNumber() || size.asLong() < 0 || size.asLong() > binary.remaining()) {
                throw ApiException.badRequest("input '" + name + "': binary_data_size " + size + " does not fit the "
                        + binary.remaining() + " binary bytes left after the JSON header");
            }
            if (in.has("data")) {
                throw ApiException.badRequest("input '" + name + "' has both 'data' and binary_data_size");
            }
            ByteBuffer own = binary.slice().limit((int) size.asLong());
            binary.position(binary.position() + (int) size.asLong());
            return new Inference.Input(name, datatype, shape, Inference.raw(datatype, own));
        }
        JsonNode data = in.get("data");
        if (data == null) {
            throw ApiException.badRequest("input '" + name + "' needs 'data'");
        }
        if (!data.isArray()) {
            throw ApiException.badRequest("input '" + name + "': 'data' must be an array");
        }
        return new Inference.Input(name, datatype, shape, new JsonValues(data, name));
    }

    /** Values of a JSON {@code data} array, flat or nested; walked without recursion, as nesting may be deep. */
    private record JsonValues(JsonNode data, String name) implements Inference.Values {
        @Override
        public long count() {
            long n = 0;
            ArrayDeque<JsonNode> todo = new ArrayDeque<>();
            todo.push(data);
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

        @Override
        public void copyTo(FloatBuffer out) {
            ArrayDeque<Iterator<JsonNode>> stack = new ArrayDeque<>();
            stack.push(data.elements());
            while (!stack.isEmpty()) {
                Iterator<JsonNode> it = stack.peek();
                if (!it.hasNext()) {
                    stack.pop();
                    continue;
                }
                JsonNode n = it.next();
                if (n.isArray()) {
                    stack.push(n.elements());
                } else {
                    out.put((float) Requests.number(n, "input '" + name + "' data"));
                }
            }
        }
    }

    /** The protocol's tensor metadata: name, datatype, shape with -1 for variable dims. */
    static List<Map<String, Object>> describe(List<TensorDescription> tensors) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (TensorDescription t : tensors) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", t.name());
            if (t.isTensor()) {
                m.put("datatype", t.datatype());
                m.put("shape", t.shape());
            }
            out.add(m);
        }
        return out;
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n == null ? null : n.get(key);
        if (v == null || !v.isTextual()) {
            throw ApiException.badRequest("'" + key + "' must be a string, got " + (v == null ? "nothing" : Requests.kind(v)));
        }
        return v.asText();
    }

    private static String abbreviate(String s) {
        String clean = s.replaceAll("[^\\x20-\\x7e]", "?");
        return clean.length() <= 40 ? clean : clean.substring(0, 37) + "...";
    }
}
