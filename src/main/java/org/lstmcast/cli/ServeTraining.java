package org.lstmcast.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.lstmcast.Http1;
import org.lstmcast.bench.Benchmarks;
import org.lstmcast.bench.BinaryRest;
import org.lstmcast.bench.GrpcLoad;
import org.lstmcast.bench.H2loadBodies;
import org.lstmcast.bench.HttpLoad;

/**
 * A short serving run for a class-data archive: {@code serve} on a repository in this JVM, then a moment of each
 * protocol on every model (JSON forecasts, JSON and binary inference, gRPC ModelInfer), then exit. Run with
 * {@code -XX:DumpLoadedClassList=LIST}, the JVM lists the classes a server loads up to its first answers; a static
 * dump of that list makes the archive a server started with {@code -XX:SharedArchiveFile=FILE} maps instead of
 * loading them (the build does both: pom.xml, {@code cds-archive}).
 *
 * <pre>java -XX:DumpLoadedClassList=target/lstmcast.classlist -cp target/lstmcast.jar org.lstmcast.cli.ServeTraining [MODELS]
 * java -Xshare:dump -XX:SharedClassListFile=target/lstmcast.classlist -XX:SharedArchiveFile=target/lstmcast.jsa -cp target/lstmcast.jar</pre>
 *
 * Exits 0 once done, 1 when the server stopped or did not become ready within two minutes.
 */
public final class ServeTraining {
    private static final long LOAD_MILLIS = 300;

    private ServeTraining() {
    }

    public static void main(String[] args) throws Exception {
        Path models = Path.of(args.length > 0 ? args[0] : "models");
        int port = freePort();
        int grpcPort = freePort();
        Thread serve = new Thread(() -> Main.run("serve", "--models", models.toString(), "--port", Integer.toString(port),
                "--grpc-port", Integer.toString(grpcPort), "--device", "cpu", "--no-console"), "serve");
        serve.setDaemon(true);
        serve.start();
        URI base = URI.create("http://127.0.0.1:" + port);
        if (!ready(base, serve)) {
            System.err.println("ServeTraining: the server on " + models + " stopped or was not ready within 120 s");
            System.exit(1);
        }
        for (String model : modelNames(models)) {
            String input = BinaryRest.inputName(base, model);
            URI forecast = base.resolve("/v1/models/" + model + "/forecast");
            HttpLoad.run(forecast, Benchmarks.body(4, 30).getBytes(StandardCharsets.UTF_8), 2, 0, LOAD_MILLIS);
            URI infer = base.resolve("/v2/models/" + model + "/infer");
            HttpLoad.runRequest(infer, Http1.post(infer, "application/json", "",
                    H2loadBodies.inferJson(input, 4, 30).getBytes(StandardCharsets.UTF_8)), 2, 0, LOAD_MILLIS);
            HttpLoad.runRequest(infer, BinaryRest.request(base, model, BinaryRest.body(input, 4, 30)), 2, 0, LOAD_MILLIS);
            GrpcLoad.run("127.0.0.1", grpcPort, GrpcLoad.request(model, input, 4, 30), 2, GrpcLoad.STREAMS_PER_CONNECTION,
                    0, LOAD_MILLIS);
        }
        System.exit(0);
    }

    private static boolean ready(URI base, Thread serve) throws InterruptedException {
        HttpClient http = HttpClient.newHttpClient();
        long until = System.nanoTime() + 120_000_000_000L;
        while (System.nanoTime() < until && serve.isAlive()) {
            try {
                if (http.send(HttpRequest.newBuilder(base.resolve("/v2/health/ready")).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(20);
        }
        return false;
    }

    /** The repository's model names: its folders that hold a version folder. */
    private static List<String> modelNames(Path models) throws IOException {
        try (Stream<Path> dirs = Files.list(models)) {
            return dirs.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
