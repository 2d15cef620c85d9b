package org.lstmcast.forecast;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtLoggingLevel;
import ai.onnxruntime.OrtSession;

/**
 * The process's one ONNX Runtime environment. DJL's ONNX Runtime engine insists on creating it (with thread
 * options, which ONNX Runtime refuses once an environment exists), so DJL is given the first word whenever it is on
 * the class path; lstmcast then shares that environment and both work in one JVM in either order of use.
 */
public final class Ort {
    private static final OrtEnvironment ENV = create();

    private Ort() {
    }

    public static OrtEnvironment environment() {
        return ENV;
    }

    /**
     * Options every lstmcast session starts from; the caller configures the rest and closes them.
     *
     * <p>ONNX Runtime's console logger writes coloured C++ lines straight to file descriptor 2, beside lstmcast's own
     * messages, and its Java API (1.28) offers no callback to route them into the program's logging: the environment
     * is created with a level and a name only. Every error it would log while creating or running a session (a model
     * it refuses, a kernel that fails) also comes back as the {@link OrtException} whose message lstmcast reports, so
     * the session's logger is held to FATAL and each reason reaches the user once, in lstmcast's words. Raising the
     * environment's level instead is not possible: DJL creates the environment first, at WARNING, and ONNX Runtime
     * keeps the first one.
     */
    public static OrtSession.SessionOptions sessionOptions() throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        try {
            options.setSessionLogLevel(OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
            return options;
        } catch (OrtException | RuntimeException e) {
            options.close();
            throw e;
        }
    }

    private static OrtEnvironment create() {
        try {
            Class.forName("ai.djl.onnxruntime.engine.OrtEngine");
            ai.djl.engine.Engine.getEngine("OnnxRuntime");
        } catch (ClassNotFoundException | RuntimeException | LinkageError e) {
            // DJL absent or unusable: the plain environment below serves lstmcast alone.
        }
        return OrtEnvironment.getEnvironment();
    }
}
