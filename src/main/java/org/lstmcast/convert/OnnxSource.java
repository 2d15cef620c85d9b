package org.lstmcast.convert;

import java.io.IOException;
import java.nio.file.Path;

/** ONNX sources: normalised so ONNX Runtime runs them, then wrapped like any other converted model. */
final class OnnxSource {
    private OnnxSource() {
    }

    static Converter.Result convert(Path source, String sha, ConvertOptions o) throws IOException {
        throw new ConversionException("ONNX sources are not converted yet");
    }
}
