package org.lstmcast.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

import ai.onnxruntime.OrtException;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.forecast.WindowBatch;

/** The engine alone: the same model in an ONNX Runtime session at a given batch size, no HTTP and no JSON. */
public final class EngineBench {

    public record Result(int batch, int threads, double seconds, long runs) {
        public double forecastsPerSecond() {
            return runs * (double) batch / seconds;
        }

        public double microsPerRun() {
            return seconds * 1e6 * threads / runs;
        }
    }

    private EngineBench() {
    }

    public static Result run(Path model, int batch, int steps, int threads, long warmupMillis, long durationMillis)
            throws OrtException, InterruptedException {
        try (OnnxForecaster f = OnnxForecaster.open(model, null)) {
            int features = f.spec().featureCount();
            float[][][] rows = new float[batch][steps][features];
            Random r = new Random(1);
            for (float[][] w : rows) {
                float level = 4000;
                for (float[] row : w) {
                    level *= 1 + 0.01f * (float) r.nextGaussian();
                    Arrays.fill(row, level);
                }
            }
            WindowBatch windows = WindowBatch.of(rows, features);
            AtomicLong runs = new AtomicLong();
            long measureFrom = System.nanoTime() + warmupMillis * 1_000_000;
            long end = measureFrom + durationMillis * 1_000_000;
            List<Thread> callers = new ArrayList<>();
            List<Exception> failures = Collections.synchronizedList(new ArrayList<>());
            for (int t = 0; t < threads; t++) {
                Thread th = new Thread(() -> {
                    try {
                        while (System.nanoTime() < end) {
                            f.run(windows);
                            if (System.nanoTime() >= measureFrom) {
                                runs.incrementAndGet();
                            }
                        }
                    } catch (OrtException e) {
                        failures.add(e);
                    }
                });
                callers.add(th);
                th.start();
            }
            for (Thread th : callers) {
                th.join();
            }
            if (!failures.isEmpty()) {
                throw (OrtException) failures.get(0);
            }
            return new Result(batch, threads, durationMillis / 1000.0, runs.get());
        }
    }
}
