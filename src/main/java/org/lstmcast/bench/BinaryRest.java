package org.lstmcast.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.Http1;

/**
 * Requests in the binary tensor data extension of the Open Inference Protocol's REST API, as Triton's clients send them:
 * {@code POST /v2/models/{m}/infer}, a JSON header of {@code Inference-Header-Content-Length} bytes, then the windows
 * as little-endian FP32, with every output asked back as binary.
 */
public final class BinaryRest {
    private BinaryRest() {
    }

    /** The JSON header and the bytes after it, for {@code windows} windows of {@link Benchmarks#levels}. */
    public record Body(byte[] header, byte[] tensor) {
        public byte[] bytes() {
            byte[] all = Arrays.copyOf(header, header.length + tensor.length);
            System.arraycopy(tensor, 0, all, header.length, tensor.length);
            return all;
        }
    }

    public static Body body(String input, int windows, int steps) {
        ByteBuffer raw = ByteBuffer.allocate(windows * steps * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (double[] w : Benchmarks.levels(windows, steps)) {
            for (double v : w) {
                raw.putFloat((float) v);
            }
        }
        var mapper = new ObjectMapper();
        var header = mapper.createObjectNode();
        var in = header.putArray("inputs").addObject();
        in.put("name", input).put("datatype", "FP32");
        in.putArray("shape").add(windows).add(steps).add(1);
        in.putObject("parameters").put("binary_data_size", raw.capacity());
        header.putObject("parameters").put("binary_data_output", true);
        return new Body(header.toString().getBytes(StandardCharsets.UTF_8), raw.array());
    }

    /** The whole HTTP/1.1 request for {@link HttpLoad#run(URI, byte[], int, long, long)}'s sockets. */
    public static byte[] request(URI base, String model, Body body) {
        return Http1.post(base.resolve("/v2/models/" + model + "/infer"), "application/octet-stream",
                "Inference-Header-Content-Length: " + body.header().length + "\r\n", body.bytes());
    }

    /**
     * The model's first input's name from {@code GET /v2/models/{m}}, so a model whose input is not called "input" can
     * be measured; "input" when that fails (the failure then shows in the run itself, counted like every other).
     */
    public static String inputName(URI base, String model) {
        try {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    base.resolve("/v2/models/" + model)).build(), HttpResponse.BodyHandlers.ofString());
            JsonNode inputs = r.statusCode() == 200 ? new ObjectMapper().readTree(r.body()).path("inputs") : null;
            return inputs != null && inputs.size() > 0 ? inputs.get(0).path("name").asText("input") : "input";
        } catch (IOException | InterruptedException | IllegalArgumentException e) {
            return "input";
        }
    }
}
