package org.lstmcast.many;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.lstmcast.Text;
import org.lstmcast.data.DataException;
import org.lstmcast.data.FutureTimes;
import org.lstmcast.data.Series;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.forecast.Intervals;
import org.lstmcast.forecast.OnnxForecaster;

/**
 * The forecast after the end of one series of many, as {@code predict} makes it for one CSV file: the model's last
 * {@code lookback} rows in, rolled forward past the model's horizon.
 *
 * @param times    the time labels of the forecast steps
 * @param forecast one value per step; empty when the series failed
 * @param error    why the series has no forecast, null when it has one
 * @param bands    the model's prediction intervals around the forecast; null when it has none
 */
public record SeriesForecast(String id, String model, long version, List<String> times, double[] forecast,
                             String error, Bands bands) implements Serializable {

    public static final List<String> HEADER = List.of("id", "model", "version", "step", "time", "forecast");

    public SeriesForecast(String id, String model, long version, List<String> times, double[] forecast, String error) {
        this(id, model, version, times, forecast, error, null);
    }

    /**
     * Intervals around one forecast, as {@code predict} gives them: {@code lower[l][h]} and {@code upper[l][h]} at
     * level {@code levels[l]}, extrapolated from step {@code extrapolatedFrom} on (0: none is).
     */
    public record Bands(int[] levels, double[][] lower, double[][] upper, int extrapolatedFrom) implements Serializable {
        /** The model's intervals around {@code forecast}, past the model's horizon widened as {@code predict} does. */
        public static Bands of(Intervals intervals, double[] forecast) {
            int n = intervals.levels().length;
            double[][] lower = new double[n][];
            double[][] upper = new double[n][];
            for (int l = 0; l < n; l++) {
                double[][] b = intervals.boundsExtended(forecast, l);
                lower[l] = b[0];
                upper[l] = b[1];
            }
            return new Bands(intervals.levels().clone(), lower, upper, intervals.extrapolatedFrom(forecast.length));
        }

        int index(int level) {
            for (int l = 0; l < levels.length; l++) {
                if (levels[l] == level) {
                    return l;
                }
            }
            return -1;
        }
    }

    public boolean ok() {
        return error == null;
    }

    /** Every interval level any of {@code forecasts} has, ascending: the table's {@code lower_L, upper_L} columns. */
    public static int[] levels(List<SeriesForecast> forecasts) {
        return forecasts.stream().filter(f -> f.bands() != null).flatMapToInt(f -> Arrays.stream(f.bands().levels()))
                .distinct().sorted().toArray();
    }

    /** {@link #HEADER}, then {@code lower_L, upper_L} per level. */
    public static List<String> header(int[] levels) {
        List<String> out = new ArrayList<>(HEADER);
        for (int level : levels) {
            out.add("lower_" + level);
            out.add("upper_" + level);
        }
        return out;
    }

    /** The rows of the forecast table, one per step, in {@link #header}'s order; null where a level is not this model's. */
    public List<List<Object>> rows(int[] levels) {
        List<List<Object>> out = new ArrayList<>(forecast.length);
        for (int h = 0; h < forecast.length; h++) {
            List<Object> row = new ArrayList<>(List.of(id, model, version, h + 1, times.get(h), forecast[h]));
            for (int level : levels) {
                int l = bands == null ? -1 : bands.index(level);
                row.add(l < 0 ? null : bands.lower()[l][h]);
                row.add(l < 0 ? null : bands.upper()[l][h]);
            }
            out.add(row);
        }
        return out;
    }

    /**
     * The intervals of a model file ({@code metadata}) for forecasts of {@code spec}: null when it has none, or none
     * that fit its horizon, as the server ignores them then.
     */
    public static Intervals intervals(Map<String, String> metadata, ForecastSpec spec) {
        try {
            Intervals iv = Intervals.fromMetadata(metadata);
            return iv != null && iv.horizon() == spec.horizon() ? iv : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
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
                        series.source(), Text.plural(series.rows(), "row"), name, spec.lookback()));
            }
            double[][] values = new double[series.rows()][columns.length];
            for (int r = 0; r < values.length; r++) {
                for (int c = 0; c < columns.length; c++) {
                    values[r][c] = series.values()[r][columns[c]];
                }
            }
            int steps = horizon > 0 ? horizon : spec.horizon();
            double[][] out = forecaster.forecast(Collections.singletonList(values), steps);
            Intervals iv = intervals(forecaster.metadata(), spec);
            return new SeriesForecast(id, model, version, FutureTimes.after(series.times(), steps), out[0], null,
                    iv == null ? null : Bands.of(iv, out[0]));
        } catch (DataException | IllegalArgumentException e) {
            return failed(id, model, version, e.getMessage());
        } catch (Exception e) {
            return failed(id, model, version, e.getClass().getSimpleName()
                    + (e.getMessage() == null ? "" : ": " + e.getMessage()));
        }
    }
}
