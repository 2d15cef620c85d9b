package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code lstmcast train} end to end in-process, with real (short) training on a generated series. */
class TrainCommandTest {
    @TempDir
    Path tmp;

    /** 200 monthly rows of trend plus season; row {@code row} (0-based) holds {@code cell} when it is not null. */
    private Path csv(int row, String cell) throws IOException {
        StringBuilder sb = new StringBuilder("month,value\n");
        for (int t = 0; t < 200; t++) {
            String v = t == row ? cell : String.format(Locale.ROOT, "%.4f", 50 + 0.05 * t + 4 * Math.sin(2 * Math.PI * t / 12));
            sb.append(String.format(Locale.ROOT, "%d-%02d,%s%n", 2000 + t / 12, t % 12 + 1, v));
        }
        return Files.writeString(tmp.resolve("series.csv"), sb);
    }

    private MainTest.Run train(Path data, String... more) {
        List<String> args = new ArrayList<>(List.of("train", "--data", data.toString(), "--target", "value",
                "--lookback", "12", "--horizon", "3", "--hidden", "8", "--epochs", "2", "--out", tmp.resolve("run").toString()));
        args.addAll(List.of(more));
        return MainTest.run(args.toArray(new String[0]));
    }

    private static int group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), regex + " in:\n" + text);
        return Integer.parseInt(m.group(1));
    }

    @Test
    void trainAndItsExportCountTheSameTestWindows() throws IOException {
        // One transform: auto could keep the anchor alone over networks trained for 2 epochs, and there would be
        // nothing to refit.
        MainTest.Run r = train(csv(-1, null), "--transform", "seasonal", "--export", tmp.resolve("repo/m").toString());
        assertEquals(0, r.code(), r.err());
        int rows = group(r.out(), "Test part: (\\d+) rows");
        int trained = group(r.out(), "forecast from (\\d+) test windows");
        int proven = group(r.out(), "proof: (\\d+) test windows");
        assertEquals(trained, proven, r.out());
        JsonNode metrics = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile());
        assertEquals(trained, metrics.path("test_windows").asInt());
        assertEquals(rows, metrics.path("test_rows").asInt());
        // 40 test rows, each forecast 1 to 3 steps ahead: the origins run from 3 rows before the test part.
        assertEquals(40, rows);
        assertEquals(rows + 3 - 1, trained);
        // The default: five networks, seeds from --seed on, trained again on the training and validation rows.
        assertTrue(r.out().contains("Refit: the mean of 5 networks (seeds [42, 43, 44, 45, 46]) trained again on the "
                + (metrics.path("data").path("train_rows").asInt() + metrics.path("data").path("val_rows").asInt())
                + " training and validation rows for the " + metrics.path("best_epoch").asInt() + " epochs"), r.out());
        assertEquals(5, metrics.path("refit").path("networks").asInt());
        assertEquals(5, metrics.path("config").path("ensemble").asInt());
        assertTrue(metrics.path("config").path("refit").asBoolean());
        assertTrue(r.err().contains("refit: training 5 networks on the training and validation rows")
                && r.err().contains("refit: 5/5 networks trained"), r.err());
    }

    @Test
    void networksTrainedForTwoEpochsLoseToTheAnchorAloneAndTheTableSaysSo() throws IOException {
        MainTest.Run r = train(csv(-1, null));
        assertEquals(0, r.code(), r.err());
        JsonNode t = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile()).path("transform");
        assertEquals("anchor", t.path("anchor_against_network").path("kept").asText(), t.toString());
        assertTrue(r.out().contains("then kept the anchor alone") && r.out().contains("Kept: the seasonal"), r.out());
        assertTrue(Pattern.compile("(?m)^1 +anchor ").matcher(r.out()).find(), r.out());
        assertFalse(Pattern.compile("(?m)^1 +lstm ").matcher(r.out()).find(), r.out());
    }

    @Test
    void theFirstLineSaysWhatWasKeptAndStderrNamesEachCandidate() throws IOException {
        MainTest.Run r = train(csv(-1, null));
        assertEquals(0, r.code(), r.err());
        JsonNode metrics = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile());
        String first = r.out().lines().findFirst().orElseThrow();
        assertTrue(first.startsWith("Kept: " + metrics.path("kept").asText() + "; written as fitted once more on all "
                + "200 rows. "), first);
        assertTrue(Pattern.compile(" \\d+\\.\\d s in all\\.$").matcher(first).find(), first);
        // The whole command's time, every candidate and fit included: at least the candidates' own.
        double all = metrics.path("seconds").asDouble();
        assertTrue(all >= metrics.path("transform").path("seconds_all_candidates").asDouble(), metrics.toString());
        // --lookback 12 spans one season, not the two seasonal-mean needs.
        assertFalse(r.err().contains("candidate: seasonal-mean"), r.err());
        for (String candidate : List.of("diff", "seasonal")) {
            assertTrue(r.err().contains("candidate: " + candidate + System.lineSeparator()), r.err());
        }
        // No network was kept here (see above): the final fit refits the anchor alone on every row.
        assertEquals("final", metrics.path("exported").path("model").asText());
        assertEquals(200, metrics.path("exported").path("rows").asInt());

        MainTest.Run evaluated = train(csv(-1, null), "--no-final-fit");
        assertEquals(0, evaluated.code(), evaluated.err());
        assertTrue(evaluated.out().lines().findFirst().orElseThrow().contains("written as evaluated, fitted on the "
                + "160 rows before the test part"), evaluated.out());
    }

    @Test
    void noRefitKeepsTheEnsembleTrainedOnTheTrainingRowsWithEachMembersValidationScore() throws IOException {
        MainTest.Run r = train(csv(-1, null), "--no-refit", "--transform", "seasonal");
        assertEquals(0, r.code(), r.err());
        JsonNode metrics = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile());
        assertTrue(r.out().contains("Ensemble: the mean of 5 networks (seeds [42, 43, 44, 45, 46])"), r.out());
        assertFalse(r.out().contains("Refit:"), r.out());
        assertEquals(5, metrics.path("ensemble").path("validation_rmse_members").size());
        assertTrue(metrics.path("refit").isMissingNode());
        assertFalse(metrics.path("config").path("refit").asBoolean(true));
        assertTrue(r.err().contains("ensemble: training 4 more networks") && r.err().contains("ensemble: 4/4 networks trained"),
                r.err());
    }

    @Test
    void anEnsembleOfNoneOrTooManyIsAUsageError() throws IOException {
        Path data = csv(-1, null);
        for (String k : List.of("0", "-1", "33")) {
            MainTest.Run r = train(data, "--ensemble", k);
            assertEquals(2, r.code(), r.err());
            assertTrue(r.err().contains("ensemble must be between 1 and 32 networks, got " + k), r.err());
            assertFalse(Files.exists(tmp.resolve("run")));
        }
    }

    @Test
    void quietTrainingWithExportPrintsNothing() throws IOException {
        MainTest.Run r = train(csv(-1, null), "--quiet", "--export", tmp.resolve("repo/m").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.out());
        assertEquals("", r.err());
        assertTrue(Files.size(tmp.resolve("repo/m/1/model.onnx")) > 1000);
    }

    @Test
    void aValueBeyondFloat32ExitsOneWithOneLineNamingTheCell() throws IOException {
        Path data = csv(150, "1e300");
        MainTest.Run r = train(data);
        assertEquals(1, r.code());
        assertEquals("lstmcast train: error: " + data + " line 152, column 'value': 1e300 is too large for the network, "
                + "which computes in float32 (magnitudes up to 3.403e+38)\n", r.err());
        assertFalse(Files.exists(tmp.resolve("run")));
    }

    @Test
    void validationRowsNoEpochCanScoreExitOneWithOneLine() throws IOException {
        // --quiet: without it, the epochs' progress lines come first on stderr.
        MainTest.Run r = train(csv(150, "1e30"), "--quiet");
        assertEquals(1, r.code());
        assertEquals(1, r.err().lines().count(), r.err());
        assertTrue(r.err().startsWith("lstmcast train: error: "), r.err());
        assertTrue(r.err().contains("validation rows 145 to 160"), r.err());
        assertTrue(r.err().contains("row 151 ('2012-07'), column 'value'"), r.err());
        assertFalse(r.err().contains("Exception"), r.err());
        assertFalse(Files.exists(tmp.resolve("run")));
    }

    /** 120 months at month starts from 2000-01-01: row 20's value is empty (line 22), and row 70 is left out. */
    private Path gappy() throws IOException {
        StringBuilder sb = new StringBuilder("date,value\n");
        for (int t = 0; t < 120; t++) {
            if (t != 70) {
                sb.append(String.format(Locale.ROOT, "%s,%s%n", LocalDate.of(2000, 1, 1).plusMonths(t),
                        t == 20 ? "" : String.format(Locale.ROOT, "%.4f", 50 + 0.05 * t + 4 * Math.sin(2 * Math.PI * t / 12))));
            }
        }
        return Files.writeString(tmp.resolve("gappy.csv"), sb);
    }

    @Test
    void gapsStopTrainingWithAHintUnlessFilled() throws IOException {
        Path data = gappy();
        MainTest.Run none = train(data, "--ensemble", "1", "--transform", "diff");
        assertEquals(1, none.code(), none.err());
        assertEquals("lstmcast train: error: " + data + " line 22, column 'value': empty cell "
                + "(or --fill previous|linear|zero to fill gaps)\n", none.err());
        assertFalse(Files.exists(tmp.resolve("run")));

        MainTest.Run bad = train(data, "--fill", "mean");
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--fill must be none, previous, linear or zero, not 'mean'"), bad.err());

        MainTest.Run filled = train(data, "--fill", "linear", "--ensemble", "1", "--transform", "diff");
        assertEquals(0, filled.code(), filled.err());
        assertTrue(filled.err().startsWith("train: filled 2 gaps (linear): 1 empty cell, 1 missing time step\n"),
                filled.err());
        JsonNode data2 = new ObjectMapper().readTree(tmp.resolve("run/metrics.json").toFile()).path("data");
        assertEquals(120, data2.path("rows").asInt(), "119 rows read and the missing month inserted");
        assertEquals("linear", data2.path("filled").path("policy").asText());
        assertEquals(2, data2.path("filled").path("gaps").asInt());
        assertEquals(1, data2.path("filled").path("empty_cells").asInt());
        assertEquals(1, data2.path("filled").path("missing_steps").asInt());
        assertEquals("Season: 12 (the time column: monthly).", filled.out().lines()
                .filter(l -> l.startsWith("Season:")).findFirst().orElse(""));
    }

    @Test
    void manualSynopsisListsEveryTrainOption() throws IOException {
        String manual = Files.readString(Path.of("docs/TRAINING.md"));
        int from = manual.indexOf("lstmcast train [");
        String synopsis = manual.substring(from, manual.indexOf("```", from));
        CommandLine train = Main.commandLine().getSubcommands().get("train");
        for (CommandLine.Model.OptionSpec option : train.getCommandSpec().options()) {
            if (option.usageHelp() || option.versionHelp()) {
                continue;
            }
            assertTrue(synopsis.contains(option.longestName()), option.longestName() + " missing from:\n" + synopsis);
        }
    }
}
