package org.lstmcast.serve.server;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

import org.lstmcast.Http1;
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
        List<Target> targets = targets(registry);
        List<byte[]> requests = requests(config, host, port, targets);
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
            List<ModelInferRequest> calls = grpcRequests(targets);
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

    /** One response's status, or -1 when the server closes the connection after it. */
    static int readResponse(InputStream in) throws IOException {
        Http1.Response response = Http1.readResponse(in);
        return response.close() ? -1 : response.status();
    }

    static String loopbackHost(String bound) {
        return switch (bound) {
            case "", "0.0.0.0" -> "127.0.0.1";
            case "::", "[::]" -> "::1";
            default -> bound.startsWith("[") && bound.endsWith("]") ? bound.substring(1, bound.length() - 1) : bound;
        };
    }

    /** A loaded univariate forecaster and the window it takes: its lookback, or 30 steps where it takes any length. */
    private record Target(String name, long version, ModelVersion model, double[] window) {
    }

    private static List<Target> targets(ModelRegistry registry) {
        List<Target> out = new ArrayList<>();
        for (ModelRegistry.VersionStatus s : registry.statuses()) {
            ModelVersion v = s.loaded();
            int steps = v == null ? -1 : v.univariateWindowSteps();
            if (steps < 1) {
                continue;
            }
            double[] window = new double[steps];
            for (int i = 0; i < steps; i++) {
                // A gentle rise with a wave: values any forecaster takes, as a real window would be.
                window[i] = 100 + 0.2 * i + Math.sin(i);
            }
            out.add(new Target(s.name(), s.version(), v, window));
        }
        return out;
    }

    /** One ModelInfer call per target: its window in its input's layout, FP32. */
    private static List<ModelInferRequest> grpcRequests(List<Target> targets) {
        List<ModelInferRequest> out = new ArrayList<>();
        for (Target t : targets) {
            int steps = t.window().length;
            float[] values = new float[steps];
            for (int i = 0; i < steps; i++) {
                values[i] = (float) t.window()[i];
            }
            long[] shape = t.model().spec.timeMajor() ? new long[] {steps, 1, 1} : new long[] {1, steps, 1};
            out.add(GrpcWarmup.request(t.name(), Long.toString(t.version()), t.model().spec.inputName(), shape, values));
        }
        return out;
    }

    /**
     * Two requests per target, to its unversioned and its versioned forecast route, with the headers common clients
     * send.
     */
    private static List<byte[]> requests(ServeConfig config, String host, int port, List<Target> targets) {
        String base = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        String headers = "User-Agent: lstmcast-warm-up\r\nAccept: */*\r\n" + (config.apiKey() != null
                && !config.apiKey().isEmpty() ? "Authorization: Bearer " + config.apiKey() + "\r\n" : "");
        List<byte[]> out = new ArrayList<>();
        for (Target t : targets) {
            StringBuilder body = new StringBuilder("{\"inputs\": [[");
            for (int i = 0; i < t.window().length; i++) {
                body.append(i == 0 ? "" : ",").append(String.format(Locale.ROOT, "%.3f", t.window()[i]));
            }
            byte[] json = body.append("]]}").toString().getBytes(StandardCharsets.UTF_8);
            for (String path : List.of("/v1/models/" + t.name() + "/forecast",
                    "/v1/models/" + t.name() + "/versions/" + t.version() + "/forecast")) {
                out.add(Http1.post(URI.create(base + path), "application/json", headers, json));
            }
        }
        return out;
    }
}
