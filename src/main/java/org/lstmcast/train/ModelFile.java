package org.lstmcast.train;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.ProviderNotFoundException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVPrinter;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.DataException;
import org.lstmcast.data.Preprocessor;
import org.lstmcast.data.Series;
import org.lstmcast.data.Transform;
import org.lstmcast.forecast.Intervals;

/**
 * {@code model.zip}: DL4J's own model archive with one more entry, {@value #ENTRY}, that holds what is needed to
 * rebuild the preprocessing exactly. DL4J ignores the extra entry, so the file still opens with
 * {@code ModelSerializer.restoreMultiLayerNetwork}.
 */
public final class ModelFile {
    public static final String ENTRY = "lstmcast.json";
    /** The raw rows the test evaluation read (its history and the test part), kept for the export's parity proof. */
    public static final String TEST_ENTRY = "lstmcast-test.csv";
    /**
     * An ensemble's members after the first, each a DL4J model archive of its own: {@code lstmcast-member-2.zip} and
     * on. The first member is the archive itself, so DL4J still opens the file (as the first member alone).
     */
    private static final String MEMBER_ENTRY = "lstmcast-member-%d.zip";
    private static final String TIME_HEADER = "#time";
    /** The newest format this reads; 2 adds {@code window_drift}, which a reader of format 1 would silently ignore. */
    public static final int FORMAT = 2;

    /**
     * What a saved model knows about itself besides its weights.
     *
     * @param network  what the graph computes: "5 LSTM networks on diff", or "none: ..." for an anchor alone; null in a
     *                 model saved before it was recorded
     * @param fittedOn the rows the saved model was fitted on: "every row" (the final fit) or "the rows before the test
     *                 part" (the evaluated model); null in a model saved before it was recorded
     */
    public record Info(int format, String lstmcastVersion, String created, String target, List<String> features,
                       String timeColumn, String transform, int lookback, int horizon, int season,
                       double[] inputShift, double[] inputScale, double[] outputShift, double[] outputScale,
                       String dataSource, String dataSha256, Map<String, Object> config,
                       @JsonProperty("test_metrics") Map<String, Object> testMetrics, int testOffset,
                       JsonNode intervals, double[] anchorCarry, boolean windowDrift,
                       String network, String fittedOn) {

        /** The calibrated prediction intervals; null for a model trained before they were. */
        public Intervals predictionIntervals() {
            return Intervals.fromJson(intervals);
        }

        /** The format a model needs its reader to know: 1 unless its anchors take their trend from the window. */
        public static int formatFor(Preprocessor pre) {
            return pre.windowDrift() ? FORMAT : 1;
        }

        public Preprocessor preprocessor() {
            // A model saved before the carry existed has none (null), and forecasts as it always did; one saved before
            // the window drift existed has none (false).
            return new Preprocessor(Transform.parse(transform), lookback, horizon, 0,
                    inputShift, inputScale, outputShift, outputScale, season, anchorCarry, windowDrift);
        }
    }

    /**
     * A loaded model: the forecaster, its description and the rows of its test evaluation ({@code test.values()} rows
     * hold every input column; the test part starts at row {@code info.testOffset()}); test is null if not stored.
     */
    public record Loaded(Forecaster forecaster, Info info, Series test) {
    }

    static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private ModelFile() {
    }

    /** The entry that holds an ensemble's member {@code m} (2 and on; member 1 is the archive itself). */
    public static String memberEntry(int m) {
        return String.format(Locale.ROOT, MEMBER_ENTRY, m);
    }

    public static void save(Path file, MultiLayerNetwork network, Info info, Series test) throws IOException {
        save(file, List.of(network), info, test);
    }

    /** Saves an ensemble: {@code networks.get(0)} as DL4J's archive, the others as {@link #MEMBER_ENTRY} entries. */
    public static void save(Path file, List<MultiLayerNetwork> networks, Info info, Series test) throws IOException {
        try (OutputStream out = Files.newOutputStream(file)) {
            ModelSerializer.writeModel(networks.get(0), out, false);
        }
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            for (int m = 1; m < networks.size(); m++) {
                try (OutputStream out = Files.newOutputStream(zip.getPath(memberEntry(m + 1)))) {
                    ModelSerializer.writeModel(networks.get(m), out, false);
                }
            }
            try (OutputStream out = Files.newOutputStream(zip.getPath(ENTRY))) {
                JSON.writeValue(out, info);
            }
            try (Writer w = Files.newBufferedWriter(zip.getPath(TEST_ENTRY), StandardCharsets.UTF_8);
                 CSVPrinter csv = new CSVPrinter(w, CSVFormat.DEFAULT)) {
                List<String> header = new ArrayList<>();
                header.add(TIME_HEADER);
                header.addAll(test.columns());
                csv.printRecord(header);
                for (int r = 0; r < test.rows(); r++) {
                    List<Object> row = new ArrayList<>();
                    row.add(test.times().get(r));
                    for (double v : test.values()[r]) {
                        // Shortest text that parses back to the same double: the proof sees the exact training values.
                        row.add(Double.toString(v));
                    }
                    csv.printRecord(row);
                }
            }
        }
    }

    public static Loaded load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DataException(file + ": no such model file");
        }
        Info info;
        Series test = null;
        List<MultiLayerNetwork> others = new ArrayList<>();
        try (FileSystem zip = FileSystems.newFileSystem(file)) {
            Path entry = zip.getPath(ENTRY);
            if (!Files.exists(entry)) {
                throw new DataException(file + ": not an lstmcast model (no " + ENTRY + " inside)");
            }
            try (InputStream in = Files.newInputStream(entry)) {
                info = JSON.readValue(in, Info.class);
            }
            Path testEntry = zip.getPath(TEST_ENTRY);
            if (Files.exists(testEntry)) {
                try (InputStream in = Files.newInputStream(testEntry)) {
                    test = CsvReader.read(in, file + "!" + TEST_ENTRY, info.features(), TIME_HEADER);
                }
            }
            for (int m = 2; ; m++) {
                String name = memberEntry(m);
                Path member = zip.getPath(name);
                if (!Files.exists(member)) {
                    break;
                }
                try (InputStream in = Files.newInputStream(member)) {
                    others.add(ModelSerializer.restoreMultiLayerNetwork(in, false));
                } catch (IOException | RuntimeException e) {
                    throw new DataException(file + ": cannot restore ensemble member " + name + ": " + e.getMessage(), e);
                }
            }
        } catch (IOException | ProviderNotFoundException e) {
            throw new DataException(file + ": not a readable model archive: " + e.getMessage(), e);
        }
        if (info.format() > FORMAT) {
            throw new DataException(file + ": model format " + info.format() + " is newer than this lstmcast reads ("
                    + FORMAT + ")");
        }
        try {
            List<MultiLayerNetwork> networks = new ArrayList<>();
            networks.add(ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false));
            networks.addAll(others);
            return new Loaded(new Forecaster(networks, info.preprocessor()), info, test);
        } catch (IOException | RuntimeException e) {
            throw new DataException(file + ": cannot restore the DL4J network: " + e.getMessage(), e);
        }
    }
}
