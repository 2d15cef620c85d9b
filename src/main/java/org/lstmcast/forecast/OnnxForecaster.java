package org.lstmcast.forecast;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import org.lstmcast.Text;

/**
 * The forecasting core: one ONNX model in an ONNX Runtime session, raw windows in, forecasts out. Beyond the
 * model's own horizon a univariate model rolls forward on its own forecasts. Every run is checked against the model's
 * declared input first. Close it: it closes the session it opened, not one it was given.
 */
public final class OnnxForecaster implements AutoCloseable {
    /** One model run on equal-length windows; a server puts its batcher here. */
    @FunctionalInterface
    public interface Runner {
        float[][] run(WindowBatch windows) throws OrtException;
    }

    private final OrtSession session;
    private final boolean ownsSession;
    private final ForecastSpec spec;
    private final Scaling scaling;
    /** The input's declared shape, -1 for open dimensions: every run is checked against it first. */
    private final long[] declared;

    private OnnxForecaster(OrtSession session, boolean ownsSession, ForecastSpec spec, Scaling scaling) throws OrtException {
        this.session = session;
        this.ownsSession = ownsSession;
        this.spec = spec;
        this.scaling = scaling;
        if (scaling != null && scaling.min().length != spec.featureCount()) {
            throw new IllegalArgumentException("scaling has " + scaling.min().length + " features, the model reads "
                    + spec.featureCount());
        }
        NodeInfo in = session.getInputInfo().get(spec.inputName());
        if (in == null || !(in.getInfo() instanceof TensorInfo t) || t.getShape().length != 3) {
            throw new IllegalArgumentException("the model has no rank-3 input '" + spec.inputName() + "'");
        }
        if (!session.getOutputNames().contains(spec.outputName())) {
            throw new IllegalArgumentException("the model has no output '" + spec.outputName() + "'");
        }
        this.declared = t.getShape();
    }

    /**
     * Forecasts with a session someone else owns and closes (a server's model version); closing the forecaster
     * leaves the session open.
     *
     * @param scaling min-max scaling to apply around the model, or null
     */
    public static OnnxForecaster over(OrtSession session, ForecastSpec spec, Scaling scaling) throws OrtException {
        return new OnnxForecaster(session, false, spec, scaling);
    }

    /** Opens a model that carries its forecast settings in its metadata (an lstmcast export). */
    public static OnnxForecaster open(Path model) throws OrtException {
        return open(model, null);
    }

    /**
     * @param fallback settings to use when the file's metadata has none (a model trained elsewhere); may be null
     */
    public static OnnxForecaster open(Path model, ForecastSpec fallback) throws OrtException {
        return open(model.toString(), fallback, (env, options) -> env.createSession(model.toString(), options));
    }

    /**
     * Opens a model held in memory (shipped to a worker, say) that carries its forecast settings in its metadata. It
     * runs on the calling thread alone: such a worker gets its parallelism from running many of them.
     *
     * @param name the model's name, for messages
     */
    public static OnnxForecaster open(byte[] model, String name) throws OrtException {
        return open(name, null, (env, options) -> {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            return env.createSession(model, options);
        });
    }

    private interface SessionSource {
        OrtSession create(OrtEnvironment env, OrtSession.SessionOptions options) throws OrtException;
    }

    private static OnnxForecaster open(String name, ForecastSpec fallback, SessionSource source) throws OrtException {
        OrtEnvironment env = Ort.environment();
        try (OrtSession.SessionOptions options = Ort.sessionOptions()) {
            OrtSession session = source.create(env, options);
            try {
                Map<String, String> meta = session.getMetadata().getCustomMetadata();
                ForecastSpec spec = ForecastSpec.fromMetadata(meta);
                if (spec == null) {
                    spec = fallback;
                }
                if (spec == null) {
                    throw new IllegalArgumentException(name + " carries no forecast metadata (lookback, horizon, features);"
                            + " it was not exported by lstmcast");
                }
                return new OnnxForecaster(session, true, spec, null);
            } catch (OrtException | RuntimeException e) {
                session.close();
                throw e;
            }
        }
    }

    /** Whether the model is run as it is, with no scaling around it. */
    public boolean unscaled() {
        return scaling == null;
    }

    /** The number of windows the model takes per run when its batch size is fixed, else -1. */
    public long fixedBatch() {
        return declared[spec.batchAxis()] > 0 ? declared[spec.batchAxis()] : -1;
    }

    public ForecastSpec spec() {
        return spec;
    }

    /** The model file's {@code metadata_props}. */
    public Map<String, String> metadata() throws OrtException {
        return session.getMetadata().getCustomMetadata();
    }

    /**
     * Runs the model once on windows of equal length, {@code windows[b][step][feature]}, and returns its output
     * {@code [batch][horizon]}.
     */
    public float[][] run(float[][][] windows) throws OrtException {
        return run(WindowBatch.of(windows, spec.featureCount()));
    }

    /** Runs the model once on a batch of windows and returns its output {@code [batch][horizon]}. */
    public float[][] run(WindowBatch windows) throws OrtException {
        return run(windows, null);
    }

    /**
     * {@link #run(WindowBatch)} under run options the caller owns (null for none): a server stops a run that no one
     * waits for any more by setting their terminate flag from another thread.
     */
    public float[][] run(WindowBatch windows, OrtSession.RunOptions options) throws OrtException {
        int batch = windows.count();
        int steps = windows.steps();
        int features = spec.featureCount();
        if (windows.features() != features) {
            throw new InvalidInputException("each step needs " + features + " features, got " + windows.features());
        }
        long[] inShape = spec.timeMajor() ? new long[] {steps, batch, features} : new long[] {batch, steps, features};
        TensorCheck.shape(spec.inputName(), inShape, declared);
        TensorCheck.sequence(spec.inputName(), inShape, spec.sequenceAxis(), Math.max(1, spec.lookback()));
        // A direct buffer is handed to ONNX Runtime without a copy.
        FloatBuffer buf = ByteBuffer.allocateDirect(4 * batch * steps * features).order(ByteOrder.nativeOrder()).asFloatBuffer();
        float[] values = windows.values();
        if (!spec.timeMajor() && scaling == null) {
            buf.put(values);
        } else {
            for (int a = 0; a < (spec.timeMajor() ? steps : batch); a++) {
                for (int b = 0; b < (spec.timeMajor() ? batch : steps); b++) {
                    int row = (spec.timeMajor() ? b * steps + a : a * steps + b) * features;
                    for (int f = 0; f < features; f++) {
                        buf.put(scaling == null ? values[row + f] : scaling.in(f, values[row + f]));
                    }
                }
            }
        }
        buf.rewind();
        try (OnnxTensor input = OnnxTensor.createTensor(Ort.environment(), buf, inShape);
             OrtSession.Result result = OrtErrors.run(session, Map.of(spec.inputName(), input), Set.of(spec.outputName()),
                     options)) {
            OnnxTensor out = (OnnxTensor) result.get(spec.outputName()).orElseThrow(
                    () -> new IllegalStateException("the model has no output '" + spec.outputName() + "'"));
            long[] shape = out.getInfo().getShape();
            FloatBuffer data = out.getFloatBuffer();
            if (shape.length < 1 || shape[0] != batch || data.remaining() < batch || data.remaining() % batch != 0) {
                throw new IllegalStateException("the model returned shape " + Arrays.toString(shape)
                        + " for a batch of " + batch);
            }
            int horizon = data.remaining() / batch;
            float[][] y = new float[batch][horizon];
            for (int b = 0; b < batch; b++) {
                data.get(y[b]);
                if (scaling != null) {
                    for (int h = 0; h < horizon; h++) {
                        y[b][h] = scaling.out(y[b][h]);
                    }
                }
            }
            return y;
        }
    }

    /**
     * Runs the model once on made-up windows to see that it answers one row per window, as a forecaster must; a
     * time-major model fed batch-first (or the reverse) answers the wrong number of rows, and would otherwise fail
     * every request. Returns null when it does, else why not.
     */
    public String probe() {
        int steps = spec.lookback() > 0 ? spec.lookback() : declared[spec.sequenceAxis()] > 0
                ? (int) declared[spec.sequenceAxis()] : 4;
        long fixedBatch = declared[spec.batchAxis()];
        int batch = fixedBatch > 0 ? (int) fixedBatch : steps == 2 ? 3 : 2;
        float[][][] windows = new float[batch][steps][spec.featureCount()];
        for (float[][] w : windows) {
            for (float[] row : w) {
                Arrays.fill(row, 1f);
            }
        }
        try {
            float[][] y = run(windows);
            return y[0].length < 1 ? "the model returned no values" : null;
        } catch (OrtException e) {
            return "a test run on " + batch + " windows of " + steps + " steps failed: " + OrtErrors.message(e);
        } catch (RuntimeException e) {
            return "a test run on " + batch + " windows of " + steps + " steps failed: " + e.getMessage();
        }
    }

    /**
     * Forecasts {@code horizon} steps after each window, in original units. Windows hold at least
     * {@code lookback} rows ({@code window[row][feature]}); only the last {@code lookback} are read.
     */
    public double[][] forecast(List<double[][]> windows, int horizon) throws OrtException {
        return forecast(windows, horizon, this::run);
    }

    /** As {@link #forecast(List, int)}, with each model run made by {@code runner}. */
    public double[][] forecast(List<double[][]> windows, int horizon, Runner runner) throws OrtException {
        Rollout r = new Rollout(windows, horizon);
        while (!r.accept(runner.run(r.input()))) {
            // each pass is one more model run, rolled forward
        }
        return r.out;
    }

    /** A model run that answers later, as a server's batcher does. */
    @FunctionalInterface
    public interface AsyncRunner {
        CompletableFuture<float[][]> run(WindowBatch windows);
    }

    /**
     * As {@link #forecast(List, int, Runner)} without holding a thread while the runs are pending: each run is asked
     * for when the one before it has answered. Bad windows or horizons are refused at once, by exception.
     */
    public CompletableFuture<double[][]> forecastAsync(List<double[][]> windows, int horizon, AsyncRunner runner) {
        return next(new Rollout(windows, horizon), runner);
    }

    private static CompletableFuture<double[][]> next(Rollout r, AsyncRunner runner) {
        return runner.run(r.input()).thenCompose(y -> r.accept(y) ? CompletableFuture.completedFuture(r.out) : next(r, runner));
    }

    /**
     * One forecast in the making: a model run forecasts up to the model's horizon; beyond it (univariate models
     * only) the forecasts become the newest rows of the next run's windows.
     */
    private final class Rollout {
        private final List<float[][]> current;
        private final double[][] out;
        private final int horizon;
        private int done;

        Rollout(List<double[][]> windows, int horizon) {
            if (horizon < 1) {
                throw new InvalidInputException("horizon must be at least 1");
            }
            if (horizon > spec.horizon() && !spec.univariate()) {
                throw new InvalidInputException("this model forecasts " + spec.horizon() + " steps and reads "
                        + spec.featureCount() + " features " + spec.features() + "; forecasting further would need the future"
                        + " values of the other features, so the horizon is limited to " + spec.horizon());
            }
            this.horizon = horizon;
            this.current = new ArrayList<>(windows.size());
            for (double[][] w : windows) {
                current.add(tail(spec, w));
            }
            this.out = new double[windows.size()][horizon];
        }

        WindowBatch input() {
            return WindowBatch.of(current.toArray(new float[0][][]), spec.featureCount());
        }

        /** Takes one run's output; true once the whole horizon is forecast. */
        boolean accept(float[][] y) {
            int take = Math.min(y[0].length, horizon - done);
            for (int b = 0; b < y.length; b++) {
                for (int h = 0; h < take; h++) {
                    out[b][done + h] = y[b][h];
                }
            }
            done += take;
            if (done >= horizon) {
                return true;
            }
            for (int b = 0; b < current.size(); b++) {
                float[][] w = current.get(b);
                int lookback = w.length;
                float[][] next = new float[lookback][];
                int keep = Math.max(0, lookback - take);
                System.arraycopy(w, w.length - keep, next, 0, keep);
                for (int h = Math.max(0, take - lookback); h < take; h++) {
                    next[keep + h - Math.max(0, take - lookback)] = new float[] {y[b][h]};
                }
                current.set(b, next);
            }
            return false;
        }
    }

    /**
     * The rows of a window the model reads, as float32: the last {@code lookback} rows (all rows for a model that
     * takes any length). The one place that decides what part of a window a model sees.
     */
    public static float[][] tail(ForecastSpec spec, double[][] window) {
        int lookback = spec.lookback() > 0 ? spec.lookback() : window.length;
        if (window.length < Math.max(1, lookback)) {
            throw new InvalidInputException("a window needs at least " + lookback + " rows, got " + window.length);
        }
        float[][] tail = new float[lookback][];
        for (int r = 0; r < lookback; r++) {
            double[] row = window[window.length - lookback + r];
            if (row.length != spec.featureCount()) {
                throw new InvalidInputException("each row needs " + Text.plural(spec.featureCount(), "value") + " " + spec.features()
                        + ", got " + row.length);
            }
            tail[r] = new float[row.length];
            for (int f = 0; f < row.length; f++) {
                if (!Double.isFinite(row[f]) || Math.abs(row[f]) > Float.MAX_VALUE) {
                    throw new InvalidInputException("windows must hold finite float32 numbers, got " + row[f]);
                }
                tail[r][f] = (float) row[f];
            }
        }
        return tail;
    }

    @Override
    public void close() throws OrtException {
        if (ownsSession) {
            session.close();
        }
    }
}
