package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import picocli.CommandLine;

/** train-global's command line: its manual's synopsis, bad options and unsupported ones, each in one line. */
class TrainGlobalCommandTest {
    @TempDir
    Path tmp;

    @Test
    void manualSynopsisListsEveryTrainGlobalOption() throws IOException {
        String manual = Files.readString(Path.of("docs/MANY_SERIES.md"));
        int from = manual.indexOf("lstmcast train-global --data");
        String synopsis = manual.substring(from, manual.indexOf("```", from));
        CommandLine command = Main.commandLine().getSubcommands().get("train-global");
        for (CommandLine.Model.OptionSpec option : command.getCommandSpec().options()) {
            // --features comes with the long-table options train-many shares; train-global refuses it (tested below).
            if (option.usageHelp() || option.versionHelp() || option.longestName().equals("--features")) {
                continue;
            }
            assertTrue(synopsis.contains(option.longestName()), option.longestName() + " missing from:\n" + synopsis);
        }
    }

    @Test
    void badValuesAreACommandLineErrorAndFeaturesAreRefusedInOneLine() throws IOException {
        Files.writeString(tmp.resolve("t.csv"), "unique_id,ds,y,price\na,1,1,2\na,2,2,2\na,3,3,2\n");
        MainTest.Run scale = MainTest.run("train-global", "--data", tmp.resolve("t.csv").toString(), "--horizon", "1",
                "--scale", "cubic", "--out", tmp.resolve("run").toString());
        assertEquals(2, scale.code(), scale.err());
        MainTest.Run horizon = MainTest.run("train-global", "--data", tmp.resolve("t.csv").toString(), "--horizon", "0",
                "--out", tmp.resolve("run").toString());
        assertEquals(2, horizon.code(), horizon.err());
        assertTrue(horizon.err().contains("horizon must be at least 1"), horizon.err());
        MainTest.Run features = MainTest.run("train-global", "--data", tmp.resolve("t.csv").toString(), "--horizon", "1",
                "--features", "price", "--out", tmp.resolve("run").toString());
        assertEquals(1, features.code(), features.err());
        assertTrue(features.err().contains("--features is not supported by train-global"), features.err());
        assertFalse(features.err().contains("Exception"), features.err());
        assertFalse(Files.exists(tmp.resolve("run")));
    }
}
