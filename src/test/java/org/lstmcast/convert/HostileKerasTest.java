package org.lstmcast.convert;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;

import io.jhdf.HdfFile;
import io.jhdf.WritableHdfFile;
import io.jhdf.api.WritableGroup;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.lstmcast.model.ConversionException;

/**
 * Keras files written to mislead: configs that disagree with their weights or ask for absurd sizes, broken JSON,
 * bytes that are not HDF5. Each is refused with a reason, never an OutOfMemoryError or an unexplained exception,
 * because the server converts whatever is dropped into its repository.
 */
class HostileKerasTest {
    @TempDir
    Path tmp;

    private static final String LSTM = "{\"class_name\": \"Sequential\", \"config\": {\"name\": \"s\", \"layers\": ["
            + "{\"class_name\": \"LSTM\", \"config\": {\"name\": \"lstm\", \"units\": UNITS, \"batch_input_shape\": [null, STEPS, 1]}}"
            + "EXTRA]}}";

    @ParameterizedTest
    @ValueSource(strings = {"units", "steps", "repeat", "json", "reshape", "layer"})
    void misleadingFilesAreRefusedWithAReason(String kind) throws Exception {
        String config = LSTM.replace("UNITS", kind.equals("units") ? "1000000000" : "2")
                .replace("STEPS", kind.equals("steps") ? "2000000000" : "3")
                .replace("EXTRA", switch (kind) {
                    case "repeat" -> ", {\"class_name\": \"RepeatVector\", \"config\": {\"name\": \"r\", \"n\": 2000000000}}";
                    case "reshape" -> ", {\"class_name\": \"Reshape\", \"config\": {\"name\": \"r\", \"target_shape\": [7, 3]}}";
                    case "layer" -> ", {\"class_name\": \"Lambda\", \"config\": {\"name\": \"evil\"}}";
                    default -> "";
                });
        if (kind.equals("json")) {
            config = config.substring(0, config.length() / 2);
        }
        Path file = tmp.resolve(kind + ".h5");
        try (WritableHdfFile h5 = HdfFile.write(file)) {
            h5.putAttribute("keras_version", "2.4.0");
            h5.putAttribute("model_config", config);
            WritableGroup weights = h5.putGroup("model_weights");
            weights.putAttribute("layer_names", new String[] {"lstm"});
            WritableGroup lstm = weights.putGroup("lstm");
            lstm.putAttribute("weight_names", new String[] {"kernel", "recurrent_kernel", "bias"});
            lstm.putDataset("kernel", new float[][] {new float[8]});
            lstm.putDataset("recurrent_kernel", new float[][] {new float[8], new float[8]});
            lstm.putDataset("bias", new float[8]);
        }
        ConversionException e = assertThrows(ConversionException.class,
                () -> Converter.convert(file, ConvertOptions.defaults()));
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), kind);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 100, 5000})
    void truncatedAndRandomBytesAreRefusedWithAReason(int keep) throws Exception {
        Path file = tmp.resolve("bad.h5");
        byte[] good = Files.readAllBytes(KerasConversionTest.DIR.resolve("k2_lstm_stack.h5"));
        byte[] bytes = Arrays.copyOf(good, Math.max(keep, 8));
        if (keep == 0) {
            new Random(3).nextBytes(bytes);
            System.arraycopy(good, 0, bytes, 0, 8);
        }
        Files.write(file, bytes);
        ConversionException e = assertThrows(ConversionException.class, () -> Converter.convert(file, ConvertOptions.defaults()));
        assertTrue(e.getMessage().contains("bad.h5"), e.getMessage());
    }
}
