package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Path;

import org.lstmcast.convert.ConvertOptions;
import org.lstmcast.convert.Converter;
import org.lstmcast.data.Transform;
import org.lstmcast.model.ConversionException;
import org.lstmcast.repository.ModelRepository;

/**
 * Models dropped into the repository as they came from elsewhere: {@code model.h5}, {@code model.zip}, or a
 * {@code model.onnx} ONNX Runtime cannot run as it is. They are converted with {@code forecast.json}'s settings
 * (scaling, lookback, transform, layout, names), proven, and cached beside the source until it or its settings change.
 * A converted {@code model.onnx} keeps its input's and output's names, dims and types, so that the inference protocol's
 * clients written for the file call it as they would call the file itself.
 */
final class DropIn {
    record Converted(Path file, boolean reused, String summary) {
    }

    private DropIn() {
    }

    static boolean needsConversion(Path file) throws IOException {
        String name = file.getFileName().toString();
        return !name.equals(ModelRepository.MODEL_FILE) || Converter.needsNormalising(file);
    }

    static Converted convert(Path source, ModelSettings settings) throws IOException {
        ConvertOptions o = ConvertOptions.defaults();
        ModelSettings.ForecastOverride f = settings.forecast();
        if (f != null) {
            if (f.scaling() != null) {
                o = o.withScale(f.scaling().min(), f.scaling().max());
            }
            o = o.withTarget(f.scaling() != null ? f.scaling().targetIndex() : 0,
                    f.transform() != null ? Transform.parse(f.transform()) : Transform.LEVEL)
                    .withLookback(f.lookback()).withNames(f.input(), f.output()).withTimeMajor(f.timeMajor());
        }
        try {
            Converter.Cached c = Converter.cached(source, o);
            return new Converted(c.file(), c.reused(), c.summary());
        } catch (ConversionException e) {
            if (source.getFileName().toString().equals(ModelRepository.MODEL_FILE)) {
                // Say first why the file needed converting: that is what its owner can fix at the source.
                throw new IllegalArgumentException("recurrent nodes with layout=1 (batch-first), which ONNX Runtime does "
                        + "not run; rewriting them failed: " + e.getMessage(), e);
            }
            throw e;
        } catch (OutOfMemoryError e) {
            // A source that declares huge arrays (a crafted DL4J zip) fails its one allocation; the server goes on.
            throw new IllegalArgumentException(source.getFileName() + ": converting it needed more memory than the server has");
        }
    }
}
