package org.lstmcast.forecast;

import ai.onnxruntime.OrtEnvironment;

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
