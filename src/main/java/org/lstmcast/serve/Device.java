package org.lstmcast.serve;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

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
                Fallback note = fallback(gpuDriverPresent(), e.getMessage());
                LOG.atLevel(note.level()).log(note.message());
            }
            return CPU_PROVIDER;
        }
    }

    /** What {@code auto} says, once, when it serves on CPU. */
    record Fallback(Level level, String message) {
    }

    /**
     * A fallback is news only where a GPU could have been used: with an NVIDIA driver installed, CUDA failing (the CPU
     * build, missing CUDA or cuDNN libraries) deserves a warning with ONNX Runtime's reason; without one, CPU is the
     * only possibility and the reason ("no CUDA provider") says nothing an operator could act on.
     */
    static Fallback fallback(boolean driverPresent, String reason) {
        return driverPresent
                ? new Fallback(Level.WARN, "device auto: CUDA is not usable here (" + firstLine(reason) + "); serving on CPU")
                : new Fallback(Level.INFO, "device auto: no GPU driver: serving on CPU");
    }

    /**
     * Files the NVIDIA driver installs: the kernel module's version file on Linux (also visible in containers run
     * with the NVIDIA runtime), the user-space driver WSL2 maps in (WSL2 has no /proc/driver/nvidia), and the driver's
     * CUDA library on Windows. Looking for files has no side effects; loading libcuda.so.1 to find out would
     * initialise the driver inside a process that is about to serve on CPU, and Java can only load a library by full
     * path, not through the dynamic linker's search.
     */
    static boolean gpuDriverPresent() {
        String windows = System.getenv("SystemRoot");
        return Files.exists(Path.of("/proc/driver/nvidia/version")) || Files.exists(Path.of("/usr/lib/wsl/lib/libcuda.so.1"))
                || windows != null && Files.exists(Path.of(windows, "System32", "nvcuda.dll"));
    }

    private static String firstLine(String s) {
        return s == null ? "no reason given" : s.lines().findFirst().orElse(s);
    }
}
