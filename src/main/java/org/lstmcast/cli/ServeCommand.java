package org.lstmcast.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.lstmcast.data.DataException;
import org.lstmcast.repository.ModelRepository;
import org.lstmcast.serve.Devices;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.server.InferenceServer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        sortOptions = false,
        description = {
            "Serve the ONNX models of a repository DIR/<name>/<version>/model.onnx over HTTP: the Open Inference "
                    + "Protocol (KServe V2) for any model, and forecasts in original units for forecasters.",
            "",
            "The repository is watched: new versions take over once loaded, removed ones leave after their requests, "
                    + "broken files are reported and retried when they change. With --model-control-mode explicit it "
                    + "changes only on POST /v2/repository/models/<name>/load and /unload. SIGTERM stops gracefully."},
        footer = {"", "Per-model overrides: DIR/<name>/config.json {\"max_batch_size\", \"max_queue_delay_us\", \"max_queue\"};"
                + " DIR/<name>/forecast.json for models trained elsewhere (see README)."})
final class ServeCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--models", paramLabel = "DIR", description = "Model repository (default: ${DEFAULT-VALUE}).")
    Path models = Path.of("models");

    @Option(names = "--host", paramLabel = "ADDR", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
    String host = "127.0.0.1";

    @Option(names = "--port", paramLabel = "N", description = "Port (default: ${DEFAULT-VALUE}; 0 picks a free one).")
    int port = 8080;

    @Option(names = "--device", paramLabel = "D", description = "auto, cpu, cuda or cuda:ID (default: ${DEFAULT-VALUE}).")
    String device = "auto";

    @Option(names = "--max-batch-size", paramLabel = "N", description = "Most windows merged into one model run (default: ${DEFAULT-VALUE}).")
    int maxBatchSize = 64;

    @Option(names = "--max-queue-delay-us", paramLabel = "N", description = "Longest wait for more requests to batch with (default: ${DEFAULT-VALUE}: none, batch what is queued).")
    long maxQueueDelayUs = 0;

    @Option(names = "--max-queue", paramLabel = "N", description = "Requests that may wait per model before 503 (default: ${DEFAULT-VALUE}).")
    int maxQueue = 1024;

    @Option(names = "--threads", paramLabel = "N", description = "Model runs in parallel per model (default: the number of cores).")
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors());

    @Option(names = "--poll-seconds", paramLabel = "S", description = "How often the repository is checked for changes (default: ${DEFAULT-VALUE}).")
    double pollSeconds = 2.0;

    @Option(names = "--api-key", paramLabel = "KEY", defaultValue = "${env:LSTMCAST_API_KEY}",
            description = "Require 'Authorization: Bearer KEY' on every endpoint but the health checks (default: $LSTMCAST_API_KEY, else none).")
    String apiKey;

    @Option(names = "--max-body-bytes", paramLabel = "N", description = "Largest request body (default: ${DEFAULT-VALUE}).")
    long maxBodyBytes = ServeConfig.Limits.defaults().maxBodyBytes();

    @Option(names = "--max-windows", paramLabel = "N", description = "Windows per forecast request (default: ${DEFAULT-VALUE}).")
    int maxWindows = ServeConfig.Limits.defaults().maxWindows();

    @Option(names = "--max-window-length", paramLabel = "N", description = "Steps per window (default: ${DEFAULT-VALUE}).")
    int maxWindowLength = ServeConfig.Limits.defaults().maxWindowLength();

    @Option(names = "--max-horizon", paramLabel = "N", description = "Steps a forecast may ask for (default: ${DEFAULT-VALUE}).")
    int maxHorizon = ServeConfig.Limits.defaults().maxHorizon();

    @Option(names = "--max-models", paramLabel = "N", description = "Model versions loaded at once (default: ${DEFAULT-VALUE}).")
    int maxModels = ServeConfig.Limits.defaults().maxModels();

    @Option(names = "--request-timeout-ms", paramLabel = "N", description = "Longest a request waits for its model runs before 503 (default: ${DEFAULT-VALUE}).")
    long requestTimeoutMs = ServeConfig.Limits.defaults().requestTimeoutMs();

    @Option(names = "--grpc-port", paramLabel = "N", description = "Port of the Open Inference Protocol over gRPC "
            + "(default: ${DEFAULT-VALUE}; 0 turns gRPC off).")
    int grpcPort = 8081;

    @Option(names = "--grpc-max-message-bytes", paramLabel = "N", description = "Largest gRPC request message; larger "
            + "ones are refused with RESOURCE_EXHAUSTED (default: ${DEFAULT-VALUE}).")
    long grpcMaxMessageBytes = 16L << 20;

    @Option(names = "--strict-readiness", description = "Report ready (/v2/health/ready) only when every model version "
            + "in the repository serves; by default, once every file has loaded or failed.")
    boolean strictReadiness;

    @Option(names = "--model-control-mode", paramLabel = "MODE", description = "poll: watch the repository every "
            + "--poll-seconds; explicit: load and unload only on request (POST /v2/repository/models/<name>/load, "
            + "/unload) (default: poll).")
    ServeConfig.ModelControl modelControl = ServeConfig.ModelControl.POLL;

    @Option(names = "--load-model", paramLabel = "NAME", description = "With --model-control-mode explicit, a model to "
            + "load at start; repeatable; '*' loads every model in the repository (default: none).")
    List<String> loadModels = new ArrayList<>();

    @Option(names = "--preload", paramLabel = "NAME,...|*", split = ",", description = "When polling, the models loaded "
            + "at start; '*' loads every model, and every one that appears later. The others load on their first "
            + "request, which waits for the load (default: '*' when the repository holds at most --max-loaded, else "
            + "--max-models, versions; none beyond).")
    List<String> preload;

    @Option(names = "--max-loaded", paramLabel = "N", description = "When polling, the most model versions loaded at "
            + "once: loading one more evicts the least recently used version with no request in flight, which loads "
            + "again on its next request (default: ${DEFAULT-VALUE}: --max-models bounds them, refusing beyond it "
            + "when everything is preloaded, evicting when models load on demand).")
    int maxLoaded = 0;

    @Option(names = "--no-console", description = "Serve no browser pages (/, /models/<name>, /docs); the API and "
            + "/openapi.json stay.")
    boolean noConsole;

    @Option(names = "--no-warmup", description = "Serve each forecaster as soon as it loads, without first running "
            + "every batch size its batcher forms on made-up windows (the warm-up keeps a version not ready until done).")
    boolean noWarmup;

    @Option(names = "--warm-up-traffic", paramLabel = "SECONDS", description = "Before reporting ready, send this "
            + "server's own forecast routes one-window requests over loopback for at most SECONDS, ending sooner once "
            + "the JIT compiler has been quiet for two seconds, so clients meet a compiled request path: ready comes "
            + "later, full speed sooner (15-20 s on two cores). 0 turns it off (default: ${DEFAULT-VALUE}).")
    double warmUpTraffic = 0;

    @Option(names = "--warm-up-grpc", description = "With --warm-up-traffic, also send the gRPC port ModelInfer calls, "
            + "for clients that use gRPC: its path shares little with REST's, and the warm-up takes about twice as long.")
    boolean warmUpGrpc;

    /**
     * Starts, on a daemon thread, two one-off initialisations that the server's start otherwise waits for on its main
     * thread: the platform MBean server (Jetty's thread pool and the JVM meters ask for it) and Jackson's. Called
     * before picocli parses the command line, they run beside it on the second core: about 40 ms of start-to-ready
     * (docs/BENCHMARKS.md, "Cold start"). Neither touches native code, so a failure here is only time lost.
     */
    static void initialiseInBackground() {
        Thread thread = new Thread(() -> {
            try {
                ManagementFactory.getPlatformMBeanServer();
                new ObjectMapper().createObjectNode().put("warm", 1.5).toString();
            } catch (RuntimeException | LinkageError e) {
                // The server's own start meets the same failure, and reports it.
            }
        }, "serve-initialise");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public Integer call() throws Exception {
        Checks.between(spec, "--port", port, 0, 65535);
        Checks.between(spec, "--warm-up-traffic", warmUpTraffic, 0, 600);
        Checks.between(spec, "--grpc-port", grpcPort, 0, 65535);
        Checks.atLeast(spec, "--grpc-max-message-bytes", grpcMaxMessageBytes, 1);
        Checks.atLeast(spec, "--max-batch-size", maxBatchSize, 1);
        Checks.atLeast(spec, "--max-queue-delay-us", maxQueueDelayUs, 0);
        Checks.atLeast(spec, "--max-queue", maxQueue, 1);
        Checks.atLeast(spec, "--threads", threads, 1);
        Checks.positive(spec, "--poll-seconds", pollSeconds);
        Checks.atLeast(spec, "--max-body-bytes", maxBodyBytes, 1);
        Checks.atLeast(spec, "--max-windows", maxWindows, 1);
        Checks.atLeast(spec, "--max-window-length", maxWindowLength, 1);
        Checks.atLeast(spec, "--max-horizon", maxHorizon, 1);
        Checks.atLeast(spec, "--max-models", maxModels, 1);
        Checks.atLeast(spec, "--request-timeout-ms", requestTimeoutMs, 1);
        Checks.atLeast(spec, "--max-loaded", maxLoaded, 0);
        if (warmUpGrpc && (warmUpTraffic == 0 || grpcPort == 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--warm-up-grpc needs --warm-up-traffic SECONDS "
                    + "and gRPC on (--grpc-port other than 0)");
        }
        try {
            Devices.check(device);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        if (!Files.isDirectory(models)) {
            throw new DataException(models + ": no such model repository (a folder of <name>/<version>/model.onnx)");
        }
        checkLoadModels();
        ServeConfig config = new ServeConfig(models, host, port, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads,
                pollSeconds, new ServeConfig.Limits(maxBodyBytes, maxWindows, maxWindowLength, maxHorizon, maxModels,
                requestTimeoutMs), apiKey == null || apiKey.isBlank() ? null : apiKey, strictReadiness,
                new ServeConfig.Grpc(grpcPort == 0 ? ServeConfig.Grpc.OFF : grpcPort, grpcMaxMessageBytes), modelControl,
                loadModels, preload, maxLoaded, !noConsole, !noWarmup);
        requirePortFree(host, port);
        if (grpcPort != 0) {
            requirePortFree(host, grpcPort, "--grpc-port (0 turns gRPC off)");
        }
        Devices.requireAvailable(device);
        CountDownLatch stop = new CountDownLatch(1);
        // SIGTERM and Ctrl-C end the wait below, so shutdown is the normal path and the exit code is 0.
        for (String name : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(name), sig -> stop.countDown());
        }
        try (InferenceServer server = new InferenceServer(config)) {
            int bound;
            try {
                bound = server.start(Duration.ofMillis(Math.round(warmUpTraffic * 1000)), warmUpGrpc);
            } catch (io.javalin.util.JavalinBindException e) {
                // Taken between the check above and the bind: the same one line (Javalin has logged its own by then).
                requirePortFree(host, port);
                throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
            }
            spec.commandLine().getErr().printf("lstmcast serve: models from %s on http://%s:%d%s%n", models, host, bound,
                    server.grpcPort() > 0 ? " and grpc://" + host + ":" + server.grpcPort() : "");
            if (!noConsole) {
                spec.commandLine().getErr().println("lstmcast serve: console: " + consoleUrl(host, bound));
            }
            spec.commandLine().getErr().flush();
            stop.await();
            spec.commandLine().getErr().println("lstmcast serve: stopping; finishing the requests in flight");
            spec.commandLine().getErr().flush();
        }
        return 0;
    }

    /**
     * Where a browser on this machine finds the console: a wildcard address is not one to browse to, so it becomes the
     * loopback address of its family; an IPv6 literal goes in brackets.
     */
    static String consoleUrl(String host, int port) {
        String h = switch (host) {
            case "0.0.0.0", "" -> "127.0.0.1";
            case "::", "[::]", "::0" -> "[::1]";
            default -> host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        };
        return "http://" + h + ":" + port + "/";
    }

    /** Every --load-model names a model folder, as Triton refuses to start with a model it cannot find. */
    private void checkLoadModels() {
        if (!loadModels.isEmpty() && modelControl != ServeConfig.ModelControl.EXPLICIT) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--load-model needs --model-control-mode explicit: polling loads every model in the repository");
        }
        if (preload != null && modelControl == ServeConfig.ModelControl.EXPLICIT) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "--preload is for polling; with --model-control-mode explicit, name the models with --load-model");
        }
        for (String name : preload == null ? List.<String>of() : preload) {
            if (!name.equals("*") && !ModelRepository.validName(name)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--preload " + name
                        + ": not a model name ([A-Za-z0-9][A-Za-z0-9_.-]*, or '*' for all)");
            }
        }
        for (String name : loadModels) {
            if (name.equals("*")) {
                continue;
            }
            if (!ModelRepository.validName(name)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--load-model " + name
                        + ": not a model name ([A-Za-z0-9][A-Za-z0-9_.-]*, or '*' for all)");
            }
            if (!Files.isDirectory(models.resolve(name))) {
                throw new DataException("--load-model " + name + ": no model folder " + models.resolve(name));
            }
        }
    }

    /**
     * Binds and releases {@code host:port} before anything starts, so that a taken port is one line and exit 1, not
     * Javalin's error log followed by models loaded for nothing. Binds as Jetty does, with SO_REUSEADDR, so a port
     * left in TIME_WAIT by a server that just stopped counts as free, as it is for Jetty.
     *
     * @throws IllegalStateException saying why the server could not listen there
     */
    static void requirePortFree(String host, int port) {
        requirePortFree(host, port, "--port");
    }

    /** @param flag the option that chooses this port, named in the message */
    static void requirePortFree(String host, int port, String flag) {
        if (port == 0) {
            return;
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalStateException("--host " + host + ": no such address");
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(address);
        } catch (BindException e) {
            String reason = String.valueOf(e.getMessage());
            if (reason.contains("in use")) {
                throw new IllegalStateException("port " + port + " on " + host + " is in use by another program; stop it"
                        + " or choose another port with " + flag);
            }
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + reason
                    + (port < 1024 && reason.contains("ermission") ? " (ports below 1024 need privileges)" : ""));
        } catch (IOException e) {
            throw new IllegalStateException("cannot listen on " + host + ":" + port + ": " + e.getMessage());
        }
    }
}
