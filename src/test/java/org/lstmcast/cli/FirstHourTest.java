package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.IntFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;

/**
 * A new user's first hour, end to end through the command line: a short quarterly series, monthly dates with gaps and
 * a long horizon all train with the default split and lookback, export a model fitted on every row, and forecast
 * with labels that continue the calendar. Networks are kept small (--ensemble 1, --epochs 3) so the test runs in
 * seconds; nothing else is set.
 */
class FirstHourTest {
    @TempDir
    Path tmp;

    /** A level, a season of {@code season} steps and noise, labelled by {@code label(i)}. */
    private Path series(String name, int rows, int season, IntFunction<String> label,
                        List<Integer> emptyCells, List<Integer> missingRows) throws Exception {
        Random random = new Random(rows);
        List<String> lines = new ArrayList<>(List.of("date,sales"));
        for (int i = 0; i < rows; i++) {
            if (missingRows.contains(i)) {
                continue;
            }
            double v = 500 + 2 * i + 40 * Math.sin(2 * Math.PI * i / season) + 5 * random.nextGaussian();
            lines.add(label.apply(i) + "," + (emptyCells.contains(i) ? "" : String.format(Locale.ROOT, "%.2f", v)));
        }
        return Files.write(tmp.resolve(name + ".csv"), lines);
    }

    /** Trains with the defaults, exports, and returns the future labels predict gives from the end of the data. */
    private List<String> trainExportPredict(Path csv, String name, String... more) throws Exception {
        List<String> args = new ArrayList<>(List.of("train", "--data", csv.toString(), "--target", "sales",
                "--ensemble", "1", "--epochs", "3", "--out", tmp.resolve("runs/" + name).toString(),
                "--export", tmp.resolve("repo/" + name).toString()));
        args.addAll(List.of(more));
        MainTest.Run train = MainTest.run(args.toArray(new String[0]));
        assertEquals(0, train.code(), train.err());
        assertTrue(train.out().startsWith("Kept: ") && train.out().contains("written as fitted once more on all"),
                train.out());
        Path model = tmp.resolve("repo/" + name + "/1/model.onnx");
        ModelReport report = OnnxInspector.inspect(model);
        assertEquals("every row", report.metadata().get("fitted_on"));
        List<String> predict = new ArrayList<>(List.of("predict", "--model", model.toString(), "--data", csv.toString(),
                "--out", tmp.resolve(name + "-forecast.csv").toString()));
        for (int i = 0; i < more.length; i++) {
            if (more[i].equals("--fill")) {
                predict.addAll(List.of("--fill", more[i + 1]));
            }
        }
        MainTest.Run p = MainTest.run(predict.toArray(new String[0]));
        assertEquals(0, p.code(), p.err());
        List<String> labels = new ArrayList<>();
        for (String line : Files.readAllLines(tmp.resolve(name + "-forecast.csv")).subList(1, 6)) {
            labels.add(line.split(",")[1]);
        }
        return labels;
    }

    @Test
    void fortyQuarterlyRowsTrainAndForecastTheNextQuarters() throws Exception {
        Path csv = series("quarterly", 40, 4, i -> LocalDate.of(2010, 1, 1).plusMonths(3L * i).toString(), List.of(),
                List.of());
        // 2010-01-01 plus 39 quarters is 2019-10-01: the forecasts start in 2020.
        assertEquals(List.of("2020-01-01", "2020-04-01", "2020-07-01", "2020-10-01", "2021-01-01"),
                trainExportPredict(csv, "quarterly"));
    }

    @Test
    void monthStartsWithAnEmptyCellAndAMissingMonthTrainWithFillAndForecastMonthStarts() throws Exception {
        Path csv = series("gaps", 100, 12, i -> LocalDate.of(2012, 1, 1).plusMonths(i).toString(), List.of(30),
                List.of(61));
        MainTest.Run refused = MainTest.run("train", "--data", csv.toString(), "--target", "sales", "--out",
                tmp.resolve("refused").toString());
        assertEquals(1, refused.code());
        assertTrue(refused.err().contains("empty cell (or --fill previous|linear|zero to fill gaps)"), refused.err());
        // 2012-01-01 plus 99 months is 2020-04-01, the last label: one calendar month at a time from there.
        assertEquals(List.of("2020-05-01", "2020-06-01", "2020-07-01", "2020-08-01", "2020-09-01"),
                trainExportPredict(csv, "gaps", "--fill", "linear"));
    }

    @Test
    void monthEndsOver126RowsWithHorizon18Train() throws Exception {
        Path csv = series("ends", 126, 12, i -> LocalDate.of(2009, 1, 31).plusMonths(i).withDayOfMonth(1)
                .plusMonths(1).minusDays(1).toString(), List.of(), List.of());
        // The last label is 2019-06-30; month ends follow, 30 and 31 days apart.
        assertEquals(List.of("2019-07-31", "2019-08-31", "2019-09-30", "2019-10-31", "2019-11-30"),
                trainExportPredict(csv, "ends", "--horizon", "18"));
    }
}
