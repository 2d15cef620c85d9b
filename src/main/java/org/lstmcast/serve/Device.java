package org.lstmcast.serve;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where sessions run: {@code cpu}, {@code cuda[:ID]} (fail fast without CUDA) or {@code auto} (CUDA when it loads,
 * else CPU, said once in the log). ONNX Runtime lists CUDA as available even on machines without a GPU, so the only
 * test is to try.
 */
record Device(Kind kind, int id) {
    enum Kind { AUTO, CPU, CUDA }

    static final String CPU_PROVIDER = "CPUExecutionProvider";
    static final String CUDA_PROVIDER = "CUDAExecutionProvider";
    private static final Logger LOG = LoggerFactory.getLogger(Device.class);
    private static final AtomicBoolean FALLBACK_LOGGED = new AtomicBoolean();

    static Device parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("auto")) {
            return new Device(Kind.AUTO, 0);
        }
        if (t.equals("cpu")) {
            return new Device(Kind.CPU, 0);
        }
        if (t.equals("cuda")) {
            return new Device(Kind.CUDA, 0);
        }
        if (t.matches("cuda:[0-9]{1,3}")) {
            return new Device(Kind.CUDA, Integer.parseInt(t.substring(5)));
        }
        throw new IllegalArgumentException("unknown device '" + text + "' (expected auto, cpu, cuda or cuda:ID)");
    }

    /**
     * Configures {@code options} for this device and returns the execution provider that will really run.
     *
     * @throws OrtException when {@code cuda} was asked for and CUDA cannot be used
     */
    String configure(OrtSession.SessionOptions options) throws OrtException {
        if (kind == Kind.CPU) {
            return CPU_PROVIDER;
        }
        try {
            options.addCUDA(id);
            return CUDA_PROVIDER;
        } catch (OrtException | UnsatisfiedLinkError e) {
            if (kind == Kind.CUDA) {
                throw e instanceof OrtException oe ? oe : new OrtException("CUDA cannot be used: " + e.getMessage());
            }
            if (FALLBACK_LOGGED.compareAndSet(false, true)) {
                LOG.warn("device auto: CUDA is not usable here ({}); serving on CPU", firstLine(e.getMessage()));
            }
            return CPU_PROVIDER;
        }
    }

    private static String firstLine(String s) {
        return s == null ? "no reason given" : s.lines().findFirst().orElse(s);
    }
}
