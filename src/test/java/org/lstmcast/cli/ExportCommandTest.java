package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.export.SmallExport;

/** {@code export --out} names a file or a model folder, as {@code convert --out} does. */
class ExportCommandTest {
    @TempDir
    static Path tmp;
    static Path run;

    @BeforeAll
    static void train() throws Exception {
        SmallExport.write(tmp, tmp.resolve("first.onnx"));
        run = tmp.resolve("small-run");
    }

    @Test
    void aFolderOutGetsTheNextVersionAndAFileOutIsThatFile() throws Exception {
        Path repo = tmp.resolve("repo");
        MainTest.Run one = MainTest.run("export", "--run", run.toString(), "--out", repo.resolve("sales").toString());
        assertEquals(0, one.code(), one.err());
        Path v1 = repo.resolve("sales/1/model.onnx");
        assertTrue(Files.isRegularFile(v1), one.out());
        assertTrue(one.out().startsWith("Exported " + v1 + "\n"), one.out());
        assertFalse(Files.isRegularFile(repo.resolve("sales").resolve("sales")));
        MainTest.Run two = MainTest.run("export", "--run", run.toString(), "--out", repo.resolve("sales").toString());
        assertEquals(0, two.code(), two.err());
        assertTrue(Files.isRegularFile(repo.resolve("sales/2/model.onnx")), two.out());
        // The same network, the same bytes but for the creation time: both versions are the same size.
        assertEquals(Files.size(v1), Files.size(repo.resolve("sales/2/model.onnx")));

        Path file = tmp.resolve("plain/sales.onnx");
        MainTest.Run plain = MainTest.run("export", "--run", run.toString(), "--out", file.toString());
        assertEquals(0, plain.code(), plain.err());
        assertTrue(Files.isRegularFile(file));
        assertArrayEquals(new String[] {"sales.onnx"}, file.getParent().toFile().list());
    }

    @Test
    void aFolderThatIsNoModelNameIsRefusedBeforeAnythingIsWritten() {
        Path bad = tmp.resolve("repo2").resolve("-sales");
        MainTest.Run r = MainTest.run("export", "--run", run.toString(), "--out", bad.toString());
        assertEquals(1, r.code(), r.err());
        assertEquals("lstmcast export: error: --out " + bad + ": a model folder's name must match "
                + "[A-Za-z0-9][A-Za-z0-9_.-]* (or name a file ending in .onnx)\n", r.err());
        assertFalse(Files.exists(tmp.resolve("repo2")));
    }
}
