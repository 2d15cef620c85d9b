package org.lstmcast.serve;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import org.lstmcast.forecast.Ort;

/** Public checks on device names, for the command line. */
public final class Devices {
    private Devices() {
    }

    /** @throws IllegalArgumentException when {@code device} is not auto, cpu, cuda or cuda:ID */
    public static void check(String device) {
        Device.parse(device);
    }

    /**
     * Fails fast when {@code cuda} was asked for and CUDA cannot be used here.
     *
     * @throws IllegalStateException with ONNX Runtime's reason
     */
    public static void requireAvailable(String device) {
        Device d = Device.parse(device);
        if (d.kind() != Device.Kind.CUDA) {
            return;
        }
        Ort.environment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            d.configure(options);
        } catch (OrtException e) {
            String reason = e.getMessage() == null ? e.getCode().toString() : e.getMessage().lines().findFirst().orElse("");
            throw new IllegalStateException("--device " + device + ": CUDA cannot be used here: " + reason
                    + " (the CPU build has no CUDA provider: build with -Pgpu on a machine with CUDA 12 and cuDNN 9)");
        }
    }
}
