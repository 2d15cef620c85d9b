package org.lstmcast.forecast;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

/**
 * Run in a child JVM by {@link OrtTest}: opens each model with {@link Ort#sessionOptions()} (or, after
 * {@code --plain}, with ONNX Runtime's defaults) and prints on stdout what lstmcast would report. ONNX Runtime's
 * console logger writes to file descriptor 2 from C++, which only a separate process lets a test read.
 */
public final class SessionLogProbe {
    private SessionLogProbe() {
    }

    public static void main(String[] args) throws Exception {
        boolean plain = false;
        for (String a : args) {
            if (a.equals("--plain")) {
                plain = true;
                continue;
            }
            try (OrtSession.SessionOptions options = plain ? new OrtSession.SessionOptions() : Ort.sessionOptions();
                 OrtSession session = Ort.environment().createSession(a, options)) {
                System.out.println("loaded: " + a + " with " + session.getNumInputs() + " inputs");
            } catch (OrtException e) {
                System.out.println("refused: " + a + ": " + e.getMessage().lines().findFirst().orElse(""));
            }
        }
    }
}
