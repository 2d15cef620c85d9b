package org.lstmcast.serve;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.WindowBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm-up of a forecaster as it loads, as Triton's {@code model_warmup} does: one run of each batch size its
 * batcher forms, on made-up windows, before the version serves. ONNX Runtime allocates and plans for a shape on its
 * first run of it; done here, that cost falls on the load rather than on the first requests of each size.
 *
 * @param batchSizes the sizes run, in order
 * @param millis     how long the runs took together
 */
public record Warmup(List<Integer> batchSizes, long millis) {
    private static final Logger LOG = LoggerFactory.getLogger(Warmup.class);

    public Warmup {
        batchSizes = List.copyOf(batchSizes);
    }

    /**
     * The batch sizes to warm: the batcher merges whole requests into runs of any size up to its maximum, so every
     * size cannot be run; the powers of two below the maximum and the maximum itself bound each size's cost from both
     * sides. A model exported with a fixed batch size runs only that one.
     */
    static List<Integer> batchSizes(int maxBatch, long fixedBatch) {
        if (fixedBatch > 0) {
            return List.of((int) fixedBatch);
        }
        List<Integer> sizes = new ArrayList<>();
        for (int b = 1; b < maxBatch; b *= 2) {
            sizes.add(b);
        }
        sizes.add(Math.max(1, maxBatch));
        return sizes;
    }

    /**
     * Runs each size once on windows of {@code steps} steps, straight on the forecaster: the batcher's queue and
     * meters are for requests. A run that fails ends the warm-up with a warning; the version serves as it would
     * have without one, and requests of that size meet the same failure.
     */
    static Warmup run(String label, OnnxForecaster forecaster, List<Integer> sizes, int steps, VersionMeters meters) {
        long start = System.nanoTime();
        int features = forecaster.spec().featureCount();
        List<Integer> done = new ArrayList<>();
        for (int size : sizes) {
            float[] values = new float[size * steps * features];
            Arrays.fill(values, 1f);
            try {
                forecaster.run(new WindowBatch(values, size, steps, features));
            } catch (Exception e) {
                LOG.warn("{}: warm-up stopped at a batch of {}: {}", label, size, e.getMessage());
                break;
            }
            meters.warmupRuns.increment();
            done.add(size);
        }
        Warmup w = new Warmup(done, (System.nanoTime() - start) / 1_000_000);
        LOG.debug("{}: warmed up batch sizes {} in {} ms", label, w.batchSizes(), w.millis());
        return w;
    }
}
