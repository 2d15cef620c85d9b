package org.lstmcast.convert;

import java.io.IOException;
import java.nio.file.Path;

/** Reads a DL4J model zip (MultiLayerNetwork or ComputationGraph saved with ModelSerializer) into a {@link Network}. */
final class Dl4jReader {
    /** The network as layers, and DL4J's own forward pass to prove the conversion against. */
    record Loaded(Network network, Converter.SourcePass pass) {
    }

    private Dl4jReader() {
    }

    static Loaded read(Path zip) throws IOException {
        throw new ConversionException("DL4J zips are not converted yet");
    }
}
