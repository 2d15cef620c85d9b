package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** The command line in-process: exit codes, help and one-line errors. */
class MainTest {
    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {
    }

    static Run run(String... args) {
        return run(Main.commandLine(), args);
    }

    static Run run(CommandLine cl, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    @Test
    void versionAndHelp() {
        Run v = run("--version");
        assertEquals(0, v.code());
        assertTrue(v.out().startsWith("lstmcast "), v.out());
        Run h = run("train", "--help");
        assertEquals(0, h.code());
        for (String option : new String[] {"--data", "--target", "--features", "--time-column", "--lookback", "--horizon",
            "--transform", "--season", "--layers", "--hidden", "--dropout", "--epochs", "--batch-size", "--learning-rate",
            "--patience", "--val-fraction", "--test-fraction", "--seed", "--quiet", "--out"}) {
            assertTrue(h.out().contains(option), option);
        }
    }

    @Test
    void usageErrorsExitTwoWithOneClearLine() {
        String out = tmp.resolve("run").toString();
        String[][] cases = {
            {},
            {"frobnicate"},
            {"train"},
            {"train", "--out", out, "--lookback", "many"},
            {"train", "--out", out, "--test-fraction", "1.5"},
            {"train", "--out", out, "--transform", "log"},
            {"train", "--out", out, "--dropout", "1"},
            {"train", "--out", out, "--horizon", "0"},
            {"train", "--out", out, "--data", "x.csv"},
            {"train", "--out", out, "--bogus"},
            {"train", "--out", out, "--fill", "mean"},
            {"train-many", "--data", "x.csv", "--out", out, "--fill", "mean"},
            {"predict", "--model", "m.onnx", "--data", "x.csv", "--fill", "mean"},
        };
        for (String[] args : cases) {
            Run r = run(args);
            assertEquals(2, r.code(), String.join(" ", args) + "\n" + r.err());
            assertFalse(r.err().contains("Exception"), r.err());
            assertFalse(r.err().contains("\tat "), r.err());
            assertFalse(Files.exists(tmp.resolve("run")));
        }
        assertTrue(run("train", "--out", out, "--transform", "log").err().contains("unknown transform 'log'"));
        assertTrue(run("train", "--out", out, "--data", "x.csv").err().contains("--target is required with --data"));
        String[][] fills = {
            {"train", "--out", out, "--fill", "Linear"},
            {"train-many", "--data", "x.csv", "--out", out, "--fill", "Linear"},
            {"predict", "--model", "m.onnx", "--data", "x.csv", "--fill", "Linear"},
        };
        for (String[] args : fills) {
            Run fill = run(args);
            assertTrue(fill.err().contains("--fill must be none, previous, linear or zero, not 'Linear'"), fill.err());
        }
    }

    @Test
    void oneNamedCommandAloneAnswersAsTheWholeTreeDoes() throws IOException {
        Path csv = tmp.resolve("bad.csv");
        Files.writeString(csv, "date,price\n2020-01-01,10\n2020-01-02,n/a\n");
        String out = tmp.resolve("run").toString();
        String[][] cases = {
            {"serve", "--help"},
            {"serve", "--warm-up-grpc"},
            {"serve", "--port", "http"},
            {"serve", "--bogus"},
            {"train", "--help"},
            {"train", "--out", out, "--transform", "log"},
            {"train", "--data", csv.toString(), "--target", "price", "--out", out},
            {"train-many", "--data", "x.csv", "--out", out, "--fill", "mean"},
            {"predict", "--model", "m.onnx", "--data", "x.csv", "--fill", "Linear"},
            {"convert", "--help"},
            {"bench", "--help"},
            {"serve", "-h"},
        };
        for (String[] args : cases) {
            CommandLine alone = Main.commandLine(args);
            assertEquals(java.util.Set.of(args[0]), alone.getSubcommands().keySet(), args[0]);
            Run whole = run(args);
            Run one = run(alone, args);
            String what = String.join(" ", args);
            assertEquals(whole, one, what);
            assertTrue(whole.code() != 0 || whole.out().contains("Usage: lstmcast " + args[0]), what + "\n" + whole.out());
        }
        assertFalse(Files.exists(tmp.resolve("run")));
        // Anything that does not start with a command's name gets every command.
        for (String[] args : new String[][] {{}, {"help"}, {"--version"}, {"serv"}, {"help", "serve"}}) {
            assertEquals(Main.commandLine().getSubcommands().keySet(), Main.commandLine(args).getSubcommands().keySet());
        }
        assertEquals(11, Main.commandLine().getSubcommands().size());
        Run typo = run(Main.commandLine("serv"), "serv");
        assertEquals(2, typo.code());
        assertTrue(typo.err().contains("serve"), typo.err());
    }

    @Test
    void dataErrorsExitOneNamingTheProblem() throws IOException {
        Path csv = tmp.resolve("bad.csv");
        Files.writeString(csv, "date,price\n2020-01-01,10\n2020-01-02,n/a\n");
        Run bad = run("train", "--data", csv.toString(), "--target", "price", "--out", tmp.resolve("run").toString());
        assertEquals(1, bad.code());
        assertEquals("lstmcast train: error: " + csv + " line 3, column 'price': 'n/a' is not a number\n", bad.err());

        Run missing = run("train", "--data", tmp.resolve("nope.csv").toString(), "--target", "price", "--out",
                tmp.resolve("run").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("nope.csv: no such file"), missing.err());

        Run column = run("train", "--target", "NIKKEI", "--out", tmp.resolve("run").toString());
        assertEquals(1, column.code());
        assertTrue(column.err().contains("no column 'NIKKEI' (columns: index, t, DAX, SMI, CAC, FTSE)"), column.err());
        assertFalse(Files.exists(tmp.resolve("run")));
    }
}
