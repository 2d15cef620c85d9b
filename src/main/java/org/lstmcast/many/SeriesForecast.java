package org.lstmcast.many;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import org.lstmcast.data.DataException;
import org.lstmcast.data.FutureTimes;
import org.lstmcast.data.Series;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.OnnxForecaster;

/**
 * The forecast after the end of one series of many, as {@code predict} makes it for one CSV file: the model's last
 * {@code lookback} rows in, rolled forward past the model's horizon.
 *
 * @param times    the time labels of the forecast steps
 * @param forecast one value per step; empty when the series failed
 * @param error    why the series has no forecast, null when it has one
 */
public record SeriesForecast(String id, String model, long version, List<String> times, double[] forecast,
                             String error) implements Serializable {

    public static final List<String> HEADER = List.of("id", "model", "version", "step", "time", "forecast");

    public boolean ok() {
        return error == null;
    }

    /** The rows of the forecast table, one per step, in {@link #HEADER}'s order. */
    public List<List<Object>> rows() {
        List<List<Object>> out = new ArrayList<>(forecast.length);
        for (int h = 0; h < forecast.length; h++) {
            out.add(List.of(id, model, version, h + 1, times.get(h), forecast[h]));
        }
        return out;
    }

    static SeriesForecast failed(String id, String model, long version, String error) {
        return new SeriesForecast(id, model, version, List.of(), new double[0], error);
    }

    /**
     * @param onnx    the model file's bytes, opened here and closed before this returns
     * @param horizon steps to forecast, 0 for the model's own horizon
     */
    public static SeriesForecast of(LongFormat format, String source, String id, List<LongFormat.Row> rows,
                                    String model, long version, byte[] onnx, int horizon) {
        String name = model + " version " + version;
        try (OnnxForecaster forecaster = OnnxForecaster.open(onnx, name)) {
            ForecastSpec spec = forecaster.spec();
            Series series = format.series(source, id, rows);
            int[] columns = new int[spec.featureCount()];
            for (int c = 0; c < columns.length; c++) {
                columns[c] = series.columns().indexOf(spec.features().get(c));
                if (columns[c] < 0) {
                    throw new DataException(String.format(Locale.ROOT, "%s reads the columns %s; the data gives %s "
                            + "(name them with --target and --features)", name, spec.features(), series.columns()));
                }
            }
            if (series.rows() < spec.lookback()) {
                throw new DataException(String.format(Locale.ROOT, "%s: %s; %s reads the last %d",
                        series.source(), org.lstmcast.Text.plural(series.rows(), "row"), name, spec.lookback()));
            }
            double[][] values = new double[series.rows()][columns.length];
            for (int r = 0; r < values.length; r++) {
                for (int c = 0; c < columns.length; c++) {
                    values[r][c] = series.values()[r][columns[c]];
                }
            }
            int steps = horizon > 0 ? horizon : spec.horizon();
            double[][] out = forecaster.forecast(Collections.singletonList(values), steps);
            return new SeriesForecast(id, model, version, FutureTimes.after(series.times(), steps), out[0], null);
        } catch (DataException | IllegalArgumentException e) {
            return failed(id, model, version, e.getMessage());
        } catch (Exception e) {
            return failed(id, model, version, e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }
}
