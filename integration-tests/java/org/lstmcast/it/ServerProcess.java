package org.lstmcast.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code lstmcast serve} in its own process on free loopback ports (HTTP and gRPC), with a small HTTP client.
 */
final class ServerProcess implements AutoCloseable {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final Process process;
    final String base;
    /** The gRPC port, or -1 when the command line turned gRPC off. */
    final int grpcPort;
    final List<String> log = Collections.synchronizedList(new ArrayList<>());

    private ServerProcess(Process process, int port, int grpcPort) {
        this.process = process;
        this.base = "http://127.0.0.1:" + port;
        this.grpcPort = grpcPort;
    }

    static ServerProcess start(Path workDir, Path models, String... extra) throws IOException {
        return start("512m", workDir, models, extra);
    }

    /**
     * @param heap the server's -Xmx
     * @param extra more options; without a {@code --grpc-port} among them, gRPC listens on a free port picked here
     */
    static ServerProcess start(String heap, Path workDir, Path models, String... extra) throws IOException {
        boolean pickGrpcPort = !List.of(extra).contains("--grpc-port");
        for (int attempt = 1; ; attempt++) {
            try {
                return startOnce(heap, workDir, models, pickGrpcPort, extra);
            } catch (PortTaken e) {
                // The port was free when picked and taken before the server bound it: pick another.
                if (attempt == 3) {
                    throw new IllegalStateException(e.getMessage());
                }
            }
        }
    }

    /** The server refused a gRPC port picked here because something else took it meanwhile. */
    private static final class PortTaken extends IOException {
        PortTaken(String message) {
            super(message);
        }
    }

    /**
     * A port nothing listens on right now. gRPC's port 0 means "off" to {@code serve}, so unlike HTTP it cannot be
     * left to the kernel; the default 8081 would make servers of parallel builds on one machine collide.
     */
    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static ServerProcess startOnce(String heap, Path workDir, Path models, boolean pickGrpcPort, String... extra)
            throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + heap, "-jar", Program.JAR.toAbsolutePath().toString(), "serve", "--models", models.toString(),
                "--port", "0", "--device", "cpu", "--poll-seconds", "0.2"));
        if (pickGrpcPort) {
            cmd.addAll(List.of("--grpc-port", Integer.toString(freePort())));
        }
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        Pattern listening = Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)(?: and grpc://127\\.0\\.0\\.1:(\\d+))?");
        List<String> early = new ArrayList<>();
        for (String line = out.readLine(); line != null; line = out.readLine()) {
            early.add(line);
            Matcher m = listening.matcher(line);
            if (m.find()) {
                ServerProcess s = new ServerProcess(p, Integer.parseInt(m.group(1)),
                        m.group(2) == null ? -1 : Integer.parseInt(m.group(2)));
                s.log.addAll(early);
                Thread drain = new Thread(() -> {
                    try {
                        for (String l = out.readLine(); l != null; l = out.readLine()) {
                            s.log.add(l);
                        }
                    } catch (IOException e) {
                        // the process ended
                    }
                }, "server-log");
                drain.setDaemon(true);
                drain.start();
                return s;
            }
        }
        p.destroyForcibly();
        String why = String.join("\n", early);
        if (pickGrpcPort && (why.contains("--grpc-port") || why.contains("cannot listen for gRPC"))) {
            throw new PortTaken("the server did not start:\n" + why);
        }
        throw new IllegalStateException("the server did not start:\n" + why);
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    int status(String path) {
        try {
            return get(path).statusCode();
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }

    /** The process runs and answers its liveness check: a crash shows here as soon as the process is gone. */
    boolean isAlive() {
        return process.isAlive() && status("/v2/health/live") == 200;
    }

    /** The last {@code n} lines the server printed, for a report of why it died. */
    String logTail(int n) {
        synchronized (log) {
            return String.join("\n", log.subList(Math.max(0, log.size() - n), log.size()));
        }
    }

    /** Resident memory of the server process, from /proc. */
    long rssBytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }

    long openFiles() throws IOException {
        try (var s = Files.list(Path.of("/proc", Long.toString(process.pid()), "fd"))) {
            return s.count();
        }
    }

    /** SIGTERM, then the exit code. */
    int terminate() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException("the server did not stop within 60 s of SIGTERM");
        }
        return process.exitValue();
    }

    static void awaitTrue(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < deadline) {
            if (condition.getAsBoolean()) {
                return;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("timed out waiting until " + what);
    }

    static void copy(Path from, Path to) throws IOException {
        Files.createDirectories(to.getParent());
        Path tmp = to.resolveSibling("." + to.getFileName() + ".part");
        Files.copy(from, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, to, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    static void deleteTree(Path dir) throws IOException {
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
