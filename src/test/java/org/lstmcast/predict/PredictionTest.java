package org.lstmcast.predict;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.data.DataException;

class PredictionTest {
    @TempDir
    Path tmp;

    @Test
    void aValueBeyondFloat32IsNamedByLineAndColumn() throws Exception {
        StringBuilder csv = new StringBuilder("Date,DAX\n");
        for (int i = 0; i < 40; i++) {
            csv.append("2020-01-").append(String.format("%02d", 1 + i % 28)).append(',').append(i == 35 ? "1e300" : "5000").append('\n');
        }
        Path file = Files.writeString(tmp.resolve("huge.csv"), csv);
        DataException e = assertThrows(DataException.class,
                () -> Prediction.predict(Path.of("models/dax/1/model.onnx"), file, null, 0, "", 5));
        assertTrue(e.getMessage().contains("line 37") && e.getMessage().contains("DAX"), e.getMessage());
    }
}
