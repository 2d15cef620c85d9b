package org.lstmcast.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Request bodies for a load generator that replays one prepared body (h2load's {@code -d}): a gRPC-framed
 * {@code ModelInfer} (the windows in raw_input_contents, as {@code bench --protocol grpc} sends them) and the same
 * windows as a JSON {@code /v2/models/<name>/infer} request.
 *
 * <pre>java -cp target/lstmcast.jar org.lstmcast.bench.H2loadBodies MODEL INPUT WINDOWS STEPS OUT_PREFIX</pre>
 *
 * writes {@code OUT_PREFIX.grpc} and {@code OUT_PREFIX.json}.
 */
public final class H2loadBodies {
    private H2loadBodies() {
    }

    /** A gRPC message as it travels in an HTTP/2 DATA frame: no compression, 4-byte big-endian length, the message. */
    public static byte[] grpcFramed(String model, String input, int windows, int steps) {
        byte[] message = GrpcLoad.request(model, input, windows, steps).toByteArray();
        return ByteBuffer.allocate(5 + message.length).put((byte) 0).putInt(message.length).put(message).array();
    }

    /** The same windows as a JSON inference request of the Open Inference Protocol, shape [windows, steps, 1]. */
    public static String inferJson(String input, int windows, int steps) {
        StringBuilder sb = new StringBuilder("{\"inputs\": [{\"name\": \"").append(input)
                .append("\", \"datatype\": \"FP32\", \"shape\": [").append(windows).append(", ").append(steps)
                .append(", 1], \"data\": [");
        double[][] levels = Benchmarks.levels(windows, steps);
        for (int w = 0; w < windows; w++) {
            for (int s = 0; s < steps; s++) {
                sb.append(w + s > 0 ? "," : "").append(String.format(Locale.ROOT, "%.2f", levels[w][s]));
            }
        }
        return sb.append("]}]}").toString();
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: H2loadBodies MODEL INPUT WINDOWS STEPS OUT_PREFIX");
            System.exit(2);
        }
        int windows = Integer.parseInt(args[2]);
        int steps = Integer.parseInt(args[3]);
        Files.write(Path.of(args[4] + ".grpc"), grpcFramed(args[0], args[1], windows, steps));
        Files.writeString(Path.of(args[4] + ".json"), inferJson(args[1], windows, steps), StandardCharsets.UTF_8);
    }
}
