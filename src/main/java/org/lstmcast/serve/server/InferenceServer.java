package org.lstmcast.serve.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.lstmcast.serve.ApiKey;
import org.lstmcast.serve.ModelRegistry;
import org.lstmcast.serve.ServeConfig;
import org.lstmcast.serve.grpc.GrpcEndpoint;
import org.lstmcast.serve.rest.RestServer;

/**
 * The model server as one piece: it builds the serving core (the {@link ModelRegistry} and the meters) and puts the
 * REST shell, and the gRPC shell when configured, in front of it. The shells know the core and not each other.
 */
public final class InferenceServer implements AutoCloseable {
    private final ServeConfig config;
    private final PrometheusMeterRegistry metrics = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final ModelRegistry registry;
    private final ApiKey apiKey;
    private final RestServer rest;
    private volatile GrpcEndpoint grpc;
    private int grpcPort = -1;
    private volatile RequestPathWarmup.Outcome warmupOutcome;

    public InferenceServer(ServeConfig config) {
        this.config = config;
        this.registry = new ModelRegistry(config, metrics);
        this.apiKey = new ApiKey(config.apiKey());
        this.rest = new RestServer(config, registry, metrics, apiKey);
    }

    /** JVM and process meters; bound beside the start-up work, which they do not need to delay. */
    private void bindJvmMetrics() {
        new JvmMemoryMetrics().bindTo(metrics);
        new JvmGcMetrics().bindTo(metrics);
        new JvmThreadMetrics().bindTo(metrics);
        new ProcessorMetrics().bindTo(metrics);
        new UptimeMetrics().bindTo(metrics);
        new FileDescriptorMetrics().bindTo(metrics);
    }

    /**
     * Loads the repository and starts listening side by side (the ready checks answer false until the models are in);
     * returns, with every model loaded, the REST port (useful with port 0).
     */
    public int start() {
        return start(Duration.ZERO);
    }

    /**
     * {@link #start()}, then, for {@code requestPathWarmup}, forecast requests to this server over loopback before it
     * reports ready ({@code /v2/health/ready}, gRPC {@code ServerReady} and health), so that clients meet a compiled
     * request path: {@code serve --warm-up-traffic}. Models report ready as they load, as without it.
     */
    public int start(Duration requestPathWarmup) {
        return start(requestPathWarmup, false);
    }

    /**
     * {@link #start(Duration)}, and with {@code grpcWarmup} the warm-up also sends ModelInfer calls to the gRPC port
     * ({@code serve --warm-up-grpc}): gRPC's path shares little with REST's, so it needs its own traffic, and the
     * compiler about twice the time.
     */
    public int start(Duration requestPathWarmup, boolean grpcWarmup) {
        boolean warm = !requestPathWarmup.isZero() && !requestPathWarmup.isNegative();
        if (warm) {
            registry.holdReady(true);
        }
        Thread jvmMetrics = new Thread(this::bindJvmMetrics, "bind-jvm-metrics");
        jvmMetrics.start();
        CompletableFuture<Void> loading = CompletableFuture.runAsync(registry::start,
                task -> new Thread(task, "load-models").start());
        // gRPC's Netty starts beside Jetty: on two cores that takes about a tenth of a second off start-to-ready.
        CompletableFuture<Integer> grpcStart = config.grpc().enabled()
                ? CompletableFuture.supplyAsync(this::startGrpc, task -> new Thread(task, "start-grpc").start())
                : CompletableFuture.completedFuture(-1);
        int port = -1;
        try {
            port = rest.start();
            try {
                grpcPort = grpcStart.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof UncheckedIOException io) {
                    throw io.getCause();
                }
                throw e;
            }
            loading.join();
            if (warm) {
                warmupOutcome = RequestPathWarmup.run(config, port, grpcWarmup ? grpcPort : -1, registry,
                        requestPathWarmup);
                registry.holdReady(false);
            }
            if (grpc != null) {
                grpc.refreshHealth();
            }
            jvmMetrics.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            loading.exceptionally(failure -> null).join();
            grpcStart.exceptionally(failure -> null).join();
            close();
            throw new IllegalStateException("cannot listen for gRPC on " + config.host() + ":" + config.grpc().port()
                    + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            // Let the loading and gRPC's start finish (or fail) before closing what they start.
            loading.exceptionally(failure -> null).join();
            grpcStart.exceptionally(failure -> null).join();
            close();
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
        return port;
    }

    private int startGrpc() {
        GrpcEndpoint endpoint = new GrpcEndpoint(registry, config, apiKey);
        grpc = endpoint;
        try {
            return endpoint.start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What {@link #start(Duration)}'s request-path warm-up did; null without one. */
    RequestPathWarmup.Outcome warmupOutcome() {
        return warmupOutcome;
    }

    /** Every REST route served, as {@code "METHOD /path"}. */
    List<String> routes() {
        return rest.routes();
    }

    /** The gRPC port listened on, or -1 without gRPC. */
    public int grpcPort() {
        return grpcPort;
    }

    /** Stops accepting, lets requests in flight finish, then closes every session. */
    @Override
    public void close() {
        if (grpc != null) {
            grpc.close();
        }
        rest.close();
        registry.close();
        metrics.close();
    }
}
