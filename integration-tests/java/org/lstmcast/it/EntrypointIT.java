package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.grpc.proto.GRPCInferenceServiceGrpc;
import org.lstmcast.grpc.proto.ModelMetadataRequest;
import org.lstmcast.grpc.proto.ServerLiveRequest;

/**
 * The container images run {@code docker/entrypoint.sh} with configuration in environment variables. No Docker
 * engine runs here, so this starts the program the same way: the same script, the same variables.
 */
class EntrypointIT {
    @TempDir
    Path work;

    @Test
    void entrypointServesFromEnvironmentVariablesAndStopsOnSigterm() throws Exception {
        Path models = Files.createDirectories(work.resolve("models"));
        ServerProcess.copy(FaultsIT.bundled("dax"), models.resolve("dax/1/model.onnx"));
        int port;
        int grpcPort;
        try (ServerSocket s = new ServerSocket(0); ServerSocket g = new ServerSocket(0)) {
            port = s.getLocalPort();
            grpcPort = g.getLocalPort();
        }
        ProcessBuilder pb = new ProcessBuilder("sh", Program.ROOT.resolve("docker/entrypoint.sh").toAbsolutePath().toString(),
                "--max-horizon", "7").directory(work.toFile()).redirectErrorStream(true)
                .redirectOutput(work.resolve("server.log").toFile());
        pb.environment().put("LSTMCAST_JAR", Program.JAR.toAbsolutePath().toString());
        pb.environment().put("LSTMCAST_MODELS", models.toString());
        pb.environment().put("LSTMCAST_HOST", "127.0.0.1");
        pb.environment().put("LSTMCAST_PORT", Integer.toString(port));
        pb.environment().put("LSTMCAST_GRPC_PORT", Integer.toString(grpcPort));
        pb.environment().put("LSTMCAST_DEVICE", "cpu");
        pb.environment().put("LSTMCAST_MAX_BATCH_SIZE", "16");
        pb.environment().put("LSTMCAST_API_KEY", "k3y");
        pb.environment().put("LSTMCAST_WARM_UP_TRAFFIC", "1");
        pb.environment().put("JAVA_OPTS", "-XX:MaxRAMPercentage=10 -XX:+ExitOnOutOfMemoryError");
        pb.environment().put("OMP_NUM_THREADS", "1");
        // java must be found the way the image finds it: on the PATH
        pb.environment().put("PATH", Path.of(System.getProperty("java.home"), "bin") + ":" + System.getenv("PATH"));
        Process p = pb.start();
        try {
            String base = "http://127.0.0.1:" + port;
            ServerProcess.awaitTrue(() -> {
                try {
                    return ServerProcess.HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v2/health/ready")).build(),
                            HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                } catch (Exception e) {
                    return false;
                }
            }, "the health check passes, as the image's HEALTHCHECK asks");
            String window = "[" + String.join(",", Collections.nCopies(30, "5000")) + "]";
            HttpResponse<String> noKey = ServerProcess.HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/dax/forecast"))
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [" + window + "]}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(401, noKey.statusCode(), "LSTMCAST_API_KEY is honoured");
            HttpResponse<String> ok = ServerProcess.HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/dax/forecast"))
                    .header("Authorization", "Bearer k3y")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [" + window + "], \"horizon\": 7}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(200, ok.statusCode(), ok.body());
            HttpResponse<String> tooFar = ServerProcess.HTTP.send(HttpRequest.newBuilder(URI.create(base + "/v1/models/dax/forecast"))
                    .header("Authorization", "Bearer k3y")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\": [" + window + "], \"horizon\": 8}")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, tooFar.statusCode(), "flags after the image name reach the program");
            assertTrue(tooFar.body().contains("--max-horizon"), tooFar.body());

            // LSTMCAST_GRPC_PORT is honoured: the Open Inference Protocol over gRPC answers there, behind the same key.
            io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
                    .forAddress("127.0.0.1", grpcPort).usePlaintext().build();
            try {
                var grpc = GRPCInferenceServiceGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(10, TimeUnit.SECONDS);
                assertTrue(grpc.serverLive(ServerLiveRequest.getDefaultInstance()).getLive());
                io.grpc.StatusRuntimeException denied = org.junit.jupiter.api.Assertions.assertThrows(
                        io.grpc.StatusRuntimeException.class, () -> grpc.modelMetadata(
                                ModelMetadataRequest.newBuilder().setName("dax").build()));
                assertEquals(io.grpc.Status.Code.UNAUTHENTICATED, denied.getStatus().getCode());
            } finally {
                channel.shutdownNow();
            }

            p.destroy(); // SIGTERM to the shell's PID, which exec made the JVM's
            assertTrue(p.waitFor(60, TimeUnit.SECONDS));
            String log = Files.readString(work.resolve("server.log"));
            assertEquals(0, p.exitValue(), log);
            // LSTMCAST_WARM_UP_TRAFFIC is honoured: its own requests, sent with the key, answered before ready.
            java.util.regex.Matcher warm = java.util.regex.Pattern.compile("request-path warm-up: (\\d+) forecasts").matcher(log);
            assertTrue(warm.find() && Long.parseLong(warm.group(1)) > 0, log);
        } finally {
            p.destroyForcibly();
        }
    }
}
