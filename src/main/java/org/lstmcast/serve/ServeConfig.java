package org.lstmcast.serve;

import java.nio.file.Path;

/**
 * How the server runs.
 *
 * @param threads       batching workers per model version (each runs one model at a time)
 * @param maxBodyBytes  largest request body accepted
 * @param maxHorizon    largest horizon a forecast request may ask for
 */
public record ServeConfig(Path models, String host, int port, String device, int maxBatchSize, long maxQueueDelayUs,
                          int maxQueue, int threads, double pollSeconds, long maxBodyBytes, int maxHorizon) {

    public static ServeConfig defaults(Path models) {
        return new ServeConfig(models, "127.0.0.1", 8080, "auto", 64, 0, 1024,
                Math.max(1, Runtime.getRuntime().availableProcessors()), 2.0, 16L << 20, 10_000);
    }

    public ServeConfig withPort(int p) {
        return new ServeConfig(models, host, p, device, maxBatchSize, maxQueueDelayUs, maxQueue, threads, pollSeconds,
                maxBodyBytes, maxHorizon);
    }
}
