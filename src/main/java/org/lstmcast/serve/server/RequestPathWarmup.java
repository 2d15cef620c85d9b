package org.lstmcast.serve.server;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import org.lstmcast.grpc.proto.ModelInferRequest;
import org.lstmcast.serve.ModelRegistry;
import org.lstmcast.serve.ModelVersion;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.grpc.GrpcWarmup;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Forecast requests to the server's own REST port over loopback, sent before it reports ready, so that the JVM has
 * compiled the request path (Jetty, JSON, the batcher, the model run, the answer) by the time clients arrive. Without
 * it a fresh server on two cores answers about half its steady rate five seconds after ready and reaches it after
 * about ten (docs/BENCHMARKS.md, "Cold start"). The models' own warm-up at load runs the sessions; this runs the rest.
 *
 * <p>It ends at the time given or once the JIT compiler has been quiet for two seconds, whichever comes first: what
 * makes a fresh server slow is the compiler's backlog (one C2 thread on two cores), so a drained backlog is the point
 * where more warm-up stops paying. One quiet second was not enough: the backlog has lulls.
 */
final class RequestPathWarmup {
    private static final Logger LOG = LoggerFactory.getLogger(RequestPathWarmup.class);
    /** Enough requests in flight to form batches, as concurrent clients do, without crowding two cores. */
    private static final int CONNECTIONS = 16;
    /** How long the compiler must have been quiet, and what quiet is: under 150 ms of its time in that window. */
    private static final long QUIET_WINDOW_MS = 2_000;
    private static final long QUIET_COMPILE_MS = 150;
    /** The compiler needs some requests before it has anything to compile: never end sooner than this. */
    private static final long MIN_MS = 3_000;
    private static final long SAMPLE_MS = 250;

    private RequestPathWarmup() {
    }

    /**
     * What a warm-up did: forecasts answered 200, gRPC calls answered OK, for how long, and whether it ended because
     * the compiler was quiet.
     */
    record Outcome(long answered, long grpcAnswered, long millis, boolean compilerQuiet) {
    }

    /**
     * Sends one-window forecast requests, round-robin over the univariate forecasters loaded and over their
     * unversioned and versioned routes, from {@link #CONNECTIONS} connections, and where gRPC listens
     * ({@code grpcPort} &gt; 0) the same windows as ModelInfer calls, for at most {@code most}.
     */
    static Outcome run(ServeConfig config, int port, int grpcPort, ModelRegistry registry, Duration most) {
        String host = loopbackHost(config.host());
        List<byte[]> requests = requests(config, host, port, registry);
        if (requests.isEmpty()) {
            return new Outcome(0, 0, 0, false);
        }
        long start = System.nanoTime();
        long until = start + most.toNanos();
        AtomicLong answered = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < CONNECTIONS; t++) {
            int first = t;
            Thread thread = new Thread(() -> send(host, port, requests, first, until, stop, answered),
                    "request-path-warmup-" + t);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        AtomicLong grpcAnswered = new AtomicLong();
        if (grpcPort > 0) {
            List<ModelInferRequest> calls = grpcRequests(registry);
            Thread grpc = new Thread(() -> {
                try {
                    grpcAnswered.set(GrpcWarmup.run(host, grpcPort, config.apiKey(), calls,
                            () -> !stop.get() && System.nanoTime() < until));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    // The gRPC half warms nothing more; the REST half goes on.
                }
            }, "request-path-warmup-grpc");
            grpc.setDaemon(true);
            grpc.start();
            threads.add(grpc);
        }
        CompilationMXBean compiler = ManagementFactory.getCompilationMXBean();
        boolean quiet = waitForQuietCompiler(start, until, () -> threads.stream().anyMatch(Thread::isAlive),
                compiler != null && compiler.isCompilationTimeMonitoringSupported()
                        ? compiler::getTotalCompilationTime : null);
        // The senders check this between requests.
        stop.set(true);
        for (Thread thread : threads) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        LOG.info("request-path warm-up: {} forecasts answered over loopback{} in {} s{}", answered.get(),
                grpcPort > 0 ? " and " + grpcAnswered.get() + " gRPC inferences" : "",
                String.format(Locale.ROOT, "%.1f", millis / 1000.0),
                quiet ? ", ended when the JIT compiler went quiet" : "");
        return new Outcome(answered.get(), grpcAnswered.get(), millis, quiet);
    }

    /**
     * Waits until {@code until} (a {@link System#nanoTime()}), until {@code running} turns false, or until the
     * compiler has been quiet for its window; true for the last.
     *
     * @param compileMillis the compiler's total time so far, or null where the JVM does not measure it
     */
    static boolean waitForQuietCompiler(long start, long until, BooleanSupplier running, LongSupplier compileMillis) {
        boolean measurable = compileMillis != null;
        int window = (int) (QUIET_WINDOW_MS / SAMPLE_MS);
        long[] samples = new long[window + 1];
        int taken = 0;
        try {
            while (System.nanoTime() < until && running.getAsBoolean()) {
                Thread.sleep(Math.max(1, Math.min(SAMPLE_MS, (until - System.nanoTime()) / 1_000_000)));
                if (!measurable) {
                    continue;
                }
                samples[taken % samples.length] = compileMillis.getAsLong();
                taken++;
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                if (taken > window && elapsedMs >= MIN_MS) {
                    long latest = samples[(taken - 1) % samples.length];
                    long windowAgo = samples[(taken - 1 - window) % samples.length];
                    if (latest - windowAgo < QUIET_COMPILE_MS) {
                        return true;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return false;
    }

    /**
     * One connection's requests, one after another. Written against a plain socket because the JDK's HttpClient
     * would spend the compiler, the very thing this warms up for, on its own code.
     */
    private static void send(String host, int port, List<byte[]> requests, int first, long until, AtomicBoolean stop,
            AtomicLong answered) {
        int i = first;
        while (!stop.get() && System.nanoTime() < until) {
            try (Socket socket = new Socket()) {
                socket.setTcpNoDelay(true);
                socket.connect(new InetSocketAddress(host, port), 5_000);
                socket.setSoTimeout(10_000);
                OutputStream out = socket.getOutputStream();
                InputStream in = new BufferedInputStream(socket.getInputStream());
                while (!stop.get() && System.nanoTime() < until) {
                    out.write(requests.get(i++ % requests.size()));
                    out.flush();
                    int status = readResponse(in);
                    if (status == 200) {
                        answered.incrementAndGet();
                    } else if (status < 0) {
                        break;
                    }
                }
            } catch (IOException e) {
                // A refused or broken connection warms nothing; pause briefly and open another.
                try {
                    Thread.sleep(50);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * Reads one HTTP/1.1 response (a Content-Length or a chunked body); returns its status, or -1 when the server
     * closes the connection after it.
     */
    static int readResponse(InputStream in) throws IOException {
        String statusLine = line(in);
        String[] parts = statusLine.split(" ", 3);
        if (parts.length < 2) {
            throw new IOException("not an HTTP status line: " + statusLine);
        }
        int status = Integer.parseInt(parts[1]);
        long length = -1;
        boolean chunked = false;
        boolean close = false;
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            String lower = header.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-length:")) {
                length = Long.parseLong(lower.substring(15).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            } else if (lower.startsWith("connection:") && lower.contains("close")) {
                close = true;
            }
        }
        if (chunked) {
            for (long size = Long.parseLong(line(in).split(";", 2)[0].trim(), 16); size > 0;
                    size = Long.parseLong(line(in).split(";", 2)[0].trim(), 16)) {
                skip(in, size);
                line(in);
            }
            while (!line(in).isEmpty()) {
                // trailers
            }
        } else if (length > 0) {
            skip(in, length);
        }
        return close ? -1 : status;
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder s = new StringBuilder();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new IOException("connection closed mid-response");
            }
            if (c != '\r') {
                s.append((char) c);
            }
        }
        return s.toString();
    }

    private static void skip(InputStream in, long n) throws IOException {
        for (long left = n; left > 0; ) {
            long skipped = in.skip(left);
            if (skipped <= 0) {
                if (in.read() < 0) {
                    throw new IOException("connection closed mid-body");
                }
                skipped = 1;
            }
            left -= skipped;
        }
    }

    static String loopbackHost(String bound) {
        return switch (bound) {
            case "", "0.0.0.0" -> "127.0.0.1";
            case "::", "[::]" -> "::1";
            default -> bound.startsWith("[") && bound.endsWith("]") ? bound.substring(1, bound.length() - 1) : bound;
        };
    }

    /** One ModelInfer call per loaded univariate forecaster: the same window, in its input's layout, FP32. */
    private static List<ModelInferRequest> grpcRequests(ModelRegistry registry) {
        List<ModelInferRequest> out = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.statuses()) {
            ModelVersion v = s.loaded();
            int steps = v == null ? -1 : v.univariateWindowSteps();
            if (steps < 1) {
                continue;
            }
            float[] window = new float[steps];
            for (int i = 0; i < steps; i++) {
                window[i] = (float) value(i);
            }
            long[] shape = v.spec.timeMajor() ? new long[] {steps, 1, 1} : new long[] {1, steps, 1};
            out.add(GrpcWarmup.request(s.name(), Long.toString(s.version()), v.spec.inputName(), shape, window));
        }
        return out;
    }

    /** A gentle rise with a wave: values any forecaster takes, as a real window would be. */
    private static double value(int i) {
        return 100 + 0.2 * i + Math.sin(i);
    }

    /**
     * Two requests per loaded univariate forecaster, to its unversioned and its versioned forecast route: a window of
     * its lookback (30 steps where it takes any length), with the headers common clients send.
     */
    private static List<byte[]> requests(ServeConfig config, String host, int port, ModelRegistry registry) {
        String hostHeader = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        String auth = config.apiKey() != null && !config.apiKey().isEmpty()
                ? "Authorization: Bearer " + config.apiKey() + "\r\n" : "";
        List<byte[]> out = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.statuses()) {
            ModelVersion v = s.loaded();
            int steps = v == null ? -1 : v.univariateWindowSteps();
            if (steps < 1) {
                continue;
            }
            StringBuilder body = new StringBuilder("{\"inputs\": [[");
            for (int i = 0; i < steps; i++) {
                body.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", value(i)));
            }
            body.append("]]}");
            byte[] json = body.toString().getBytes(StandardCharsets.UTF_8);
            for (String path : List.of("/v1/models/" + s.name() + "/forecast",
                    "/v1/models/" + s.name() + "/versions/" + s.version() + "/forecast")) {
                String head = "POST " + path + " HTTP/1.1\r\nHost: " + hostHeader + "\r\nUser-Agent: lstmcast-warm-up"
                        + "\r\nAccept: */*\r\nContent-Type: application/json\r\n" + auth + "Content-Length: "
                        + json.length + "\r\n\r\n";
                byte[] h = head.getBytes(StandardCharsets.US_ASCII);
                byte[] request = new byte[h.length + json.length];
                System.arraycopy(h, 0, request, 0, h.length);
                System.arraycopy(json, 0, request, h.length, json.length);
                out.add(request);
            }
        }
        return out;
    }
}
