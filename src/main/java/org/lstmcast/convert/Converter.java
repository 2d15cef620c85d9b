package org.lstmcast.convert;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.zip.ZipFile;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.codec.digest.DigestUtils;
import org.lstmcast.Version;
import org.lstmcast.convert.dl4j.Dl4jReader;
import org.lstmcast.convert.keras.KerasReader;
import org.lstmcast.convert.onnx.OnnxSource;
import org.lstmcast.model.ConversionException;
import org.lstmcast.model.Network;
import org.lstmcast.model.Proof;
import org.lstmcast.model.Source;
import org.lstmcast.repository.ModelRepository;

/**
 * Turns a model made elsewhere (Keras HDF5, a DL4J zip, an ONNX file ONNX Runtime cannot run as it is) into one
 * self-contained ONNX file, and proves it: before anything is written, ONNX Runtime runs the result on windows and
 * its answers are compared with an independent forward pass of the source.
 */
public final class Converter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final byte[] HDF5_MAGIC = {(byte) 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

    public enum Kind { KERAS, DL4J, ONNX }

    /**
     * A converted model, proven but not yet written.
     *
     * @param forecasting true when the result takes raw windows and answers forecasts ({@code input} → {@code forecast},
     *                    or an ONNX source's own input and output names)
     */
    public record Result(OnnxMl.ModelProto model, Kind kind, String origin, String sourceSha256, List<String> layers,
                         List<String> notes, Proof.Parity parity, boolean forecasting, int lookback, int horizon,
                         boolean probabilities) {
        Result(OnnxMl.ModelProto model, Kind kind, String origin, String sourceSha256, List<String> layers,
               List<String> notes, Proof.Parity parity, boolean forecasting, int lookback, int horizon) {
            this(model, kind, origin, sourceSha256, layers, notes, parity, forecasting, lookback, horizon, false);
        }

        public byte[] bytes() {
            return model.toByteArray();
        }

        /** The same result, its output known to be a softmax's class probabilities. */
        Result withProbabilities() {
            return new Result(model, kind, origin, sourceSha256, layers, notes, parity, forecasting, lookback, horizon, true);
        }
    }

    private Converter() {
    }

    /** Recognises a source by its content, not its name. */
    public static Kind detect(Path source) throws IOException {
        byte[] head = new byte[8];
        try (InputStream in = Files.newInputStream(source)) {
            int n = in.readNBytes(head, 0, head.length);
            if (n == 8 && Arrays.equals(head, HDF5_MAGIC)) {
                return Kind.KERAS;
            }
            if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
                try (ZipFile zip = new ZipFile(source.toFile())) {
                    if (zip.getEntry("configuration.json") != null) {
                        return Kind.DL4J;
                    }
                }
                throw new ConversionException(source.getFileName() + " is a zip file but not a DL4J model (no configuration.json)");
            }
        }
        return Kind.ONNX;
    }

    public static Result convert(Path source, ConvertOptions options) throws IOException {
        Kind kind = detect(source);
        String sha = sha256(source);
        return switch (kind) {
            case KERAS -> fromNetwork(KerasReader.read(source, options.kerasConfig()), Kind.KERAS, sha, options, null);
            case DL4J -> {
                Dl4jReader.Loaded loaded = Dl4jReader.read(source);
                yield fromNetwork(loaded.network(), Kind.DL4J, sha, options, loaded.pass());
            }
            case ONNX -> Assembly.assemble(OnnxSource.read(source, options.timeMajor(), options.inputName(),
                    options.outputName(), options.transform().networkSteps(Math.max(options.lookback(), 2))), Kind.ONNX,
                    sha, options);
        };
    }

    static Result fromNetwork(Network net, Kind kind, String sha, ConvertOptions o) {
        return fromNetwork(net, kind, sha, o, null);
    }

    /** A Keras or DL4J network: written by the one writer, proven against {@code pass} (null: the reference pass). */
    static Result fromNetwork(Network net, Kind kind, String sha, ConvertOptions o, Source.Pass pass) {
        return Assembly.assemble(Source.of(net, pass), kind, sha, o);
    }

    /** The converted model's first output for each window, as ONNX Runtime answers it. */
    static double[][] runOrt(byte[] model, List<double[][]> windows) {
        return Proof.run(model, windows).values().iterator().next();
    }

    /**
     * Writes a proven result: to {@code out} when it names a {@code .onnx} file, else to the next version folder of the
     * model directory {@code out} ({@code REPO/NAME}). Refuses a result whose proof failed. Returns the file written.
     */
    public static Path write(Result result, Path out) throws IOException {
        if (!result.parity().ok()) {
            throw new ConversionException(new Proof.ParityException(result.parity(), "the source").getMessage());
        }
        Path target;
        try {
            target = ModelRepository.outputFile(out, "--out");
        } catch (IllegalArgumentException e) {
            throw new ConversionException(e.getMessage());
        }
        ModelRepository.write(target, result.bytes());
        return target;
    }

    /** A conversion kept on disk for a dropped-in source. */
    public record Cached(Path file, boolean reused, String summary) {
    }

    /**
     * The converted file for {@code source} under these options: reused when a previous conversion of the same bytes
     * with the same options by the same lstmcast version is on disk, else converted, proven and written. The cache lies
     * beside the source ({@code model.converted.onnx}), or in the temporary folder when the repository is read-only.
     */
    public static synchronized Cached cached(Path source, ConvertOptions o) throws IOException {
        String key = sha256(source) + " " + fingerprint(o) + " " + Version.get();
        Path dir = source.toAbsolutePath().getParent();
        Path fallback = Path.of(System.getProperty("java.io.tmpdir"), "lstmcast-converted",
                DigestUtils.sha256Hex(source.toAbsolutePath().toString()).substring(0, 16));
        for (Path d : List.of(dir, fallback)) {
            Path file = d.resolve(CACHE_FILE);
            Path stamp = d.resolve(CACHE_KEY);
            if (Files.isRegularFile(file) && Files.isRegularFile(stamp) && Files.readString(stamp).equals(key)) {
                return new Cached(file, true, "cached conversion of " + source.getFileName());
            }
        }
        Result r = convert(source, o);
        String summary = String.format(Locale.ROOT, "%s (%s) proven on %d windows, max relative error %.3g",
                source.getFileName(), r.origin(), r.parity().windows(), r.parity().maxRelError());
        try {
            return new Cached(writeCache(r, dir, key), false, summary);
        } catch (IOException e) {
            Files.createDirectories(fallback);
            return new Cached(writeCache(r, fallback, key), false, summary + " (cached in " + fallback + ": " + dir + " is not writable)");
        }
    }

    static final String CACHE_FILE = "model.converted.onnx";
    private static final String CACHE_KEY = "model.converted.key";

    private static Path writeCache(Result r, Path dir, String key) throws IOException {
        Path file = write(r, dir.resolve(CACHE_FILE));
        Files.writeString(dir.resolve(CACHE_KEY), key);
        return file;
    }

    /**
     * What a conversion writes beyond its options: raised when the same source and options come to convert to a
     * different file, so that a cache written by an earlier build of the same version is not reused. 2: ONNX sources
     * keep their own input and output names.
     */
    private static final String FORM = "form 2";

    private static String fingerprint(ConvertOptions o) {
        return String.join(";", FORM, Arrays.toString(o.scaleMin()), Arrays.toString(o.scaleMax()),
                Integer.toString(o.targetIndex()),
                o.transform().id(), Integer.toString(o.lookback()), String.valueOf(o.inputName()), String.valueOf(o.outputName()),
                String.valueOf(o.timeMajor()));
    }

    /** An ONNX file ONNX Runtime cannot run as it is: a recurrent node with {@code layout=1}. */
    public static boolean needsNormalising(Path onnx) throws IOException {
        return OnnxSource.needsNormalising(onnx);
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return DigestUtils.sha256Hex(in);
        }
    }

}
