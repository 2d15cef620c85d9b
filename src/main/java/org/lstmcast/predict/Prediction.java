package org.lstmcast.predict;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;

import ai.onnxruntime.OrtException;
import org.lstmcast.Text;
import org.lstmcast.data.CsvReader;
import org.lstmcast.data.DataException;
import org.lstmcast.data.FutureTimes;
import org.lstmcast.data.Gaps;
import org.lstmcast.data.Series;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.OnnxForecaster;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;

/** "What comes next": the forecast after the end of a CSV file, from its last rows. */
public final class Prediction {

    /**
     * The forecast and the history it continues.
     *
     * @param intervals the model's calibrated prediction intervals, or null when it has none
     */
    public record Result(ForecastSpec spec, Series history, List<String> times, double[] forecast, Intervals intervals) {
    }

    private Prediction() {
    }

    /**
     * @param features   input columns for a model without lstmcast metadata (null to use the model's own)
     * @param lookback   rows to read for such a model when its sequence length is dynamic (0 for the model's own)
     * @param timeColumn time column, null for the model's own or a guess by name
     * @param horizon    steps to forecast; 0 for the model's own horizon
     */
    public static Result predict(Path model, Path csv, List<String> features, int lookback, String timeColumn, int horizon)
            throws OrtException {
        return predict(model, csv, features, lookback, timeColumn, horizon, null);
    }

    /**
     * As {@link #predict(Path, Path, List, int, String, int)}, with the history's gaps handled by {@code fill} (null:
     * every cell must hold a number, and missing time steps pass); the history's {@link Series#filled()} counts them.
     */
    public static Result predict(Path model, Path csv, List<String> features, int lookback, String timeColumn, int horizon,
                                 Gaps.Fill fill) throws OrtException {
        ModelReport report = OnnxInspector.inspect(model);
        if (!report.servable()) {
            throw new DataException(model + ": cannot forecast with this model: " + String.join("; ", report.problems()));
        }
        ForecastSpec spec = report.forecast();
        boolean own = ForecastSpec.fromMetadata(report.metadata()) != null;
        if (!own) {
            if (features == null || features.isEmpty()) {
                throw new IllegalArgumentException(model + " was not made by lstmcast: name its "
                        + Text.plural(spec.featureCount(), "input column") + " with --features");
            }
            if (features.size() != spec.featureCount()) {
                throw new IllegalArgumentException(model + " reads " + Text.plural(spec.featureCount(), "feature")
                        + "; --features names " + features.size());
            }
            int rows = spec.lookback() > 0 ? spec.lookback() : lookback;
            if (rows < 1) {
                throw new IllegalArgumentException(model + " takes sequences of any length: say how many rows to read with --lookback");
            }
            spec = new ForecastSpec(spec.inputName(), spec.outputName(), rows, spec.horizon(), features, features.get(0),
                    null, null, spec.timeMajor());
        } else if (features != null && !features.isEmpty() && !features.equals(spec.features())) {
            throw new IllegalArgumentException(model + " reads the columns " + spec.features() + "; --features is only for "
                    + "models made elsewhere");
        }
        String time = timeColumn != null ? timeColumn : spec.timeColumn();
        Series series = fill == null ? CsvReader.readFloat32(csv, spec.features(), time)
                : CsvReader.readFloat32(csv, spec.features(), time, fill);
        if (series.rows() < spec.lookback()) {
            throw new DataException(csv + ": " + series.rows() + " rows; the model reads the last " + spec.lookback());
        }
        int steps = horizon > 0 ? horizon : spec.horizon();
        double[][] values;
        try (OnnxForecaster forecaster = OnnxForecaster.open(model, spec)) {
            // The file's metadata wins inside open(); for models from elsewhere the spec built above applies.
            values = forecaster.forecast(Collections.singletonList(series.values()), steps);
        }
        Intervals intervals = own ? Intervals.fromMetadata(report.metadata()) : null;
        return new Result(spec, series, FutureTimes.after(series.times(), steps), values[0], intervals);
    }
}
