package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code lstmcast serve} says on stderr when it starts: a taken port, and where it runs with {@code --device auto}. */
class StartupIT {
    @TempDir
    Path work;

    static List<String> lines(String text) {
        return text.lines().filter(l -> !l.isBlank()).toList();
    }

    @Test
    void aPortInUseIsOneErrorLineAndExitOne() throws Exception {
        Path models = Program.ROOT.resolve("models").toAbsolutePath();
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            int port = taken.getLocalPort();
            Program.Result r = Program.run(work, "serve", "--models", models.toString(), "--port", Integer.toString(port),
                    "--device", "cpu", "--grpc-port", "0");
            assertEquals(1, r.code(), r.err());
            List<String> err = lines(r.err());
            assertEquals(1, err.size(), "one line on stderr:\n" + r.err());
            String line = err.get(0);
            assertTrue(line.startsWith("lstmcast serve: error: port " + port + " on 127.0.0.1 is in use"), line);
            assertTrue(line.contains("--port"), "says what to do: " + line);
            assertFalse(r.err().contains("Exception") || r.err().contains("\tat ") || r.err().contains("Javalin"), r.err());
            assertEquals("", r.out());
        }
    }

    /** The serve process with --device auto, stopped with SIGTERM once it listens; its whole stderr. */
    List<String> serveAuto(String... jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-jar", Program.JAR.toAbsolutePath().toString(), "serve", "--models",
                Program.ROOT.resolve("models").toAbsolutePath().toString(), "--port", "0", "--grpc-port", "0", "--device", "auto"));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        List<String> log = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            // "on http://..." is printed after every model of the first scan has loaded, so every device decision
            // has been logged by then.
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                log.add(line);
                if (line.contains(" on http://127.0.0.1:")) {
                    // SIGTERM through the handle: Process.destroy() would also close the stream being read.
                    p.toHandle().destroy();
                }
            }
        } catch (IOException e) {
            p.destroyForcibly();
            throw e;
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), String.join("\n", log));
        return log;
    }

    @Test
    void deviceAutoWarnsAboutTheCpuFallbackOnlyWhereAnNvidiaDriverIsInstalled() throws Exception {
        // The machine fact the server decides on (Linux); with a driver, CUDA failing is worth a warning.
        boolean driver = Files.exists(Path.of("/proc/driver/nvidia/version"));
        List<String> plain = serveAuto();
        List<String> device = plain.stream().filter(l -> l.contains("CUDA") || l.contains("GPU")).toList();
        if (driver) {
            assertEquals(1, device.size(), String.join("\n", plain));
            assertTrue(device.get(0).startsWith("WARN") && device.get(0).contains("CUDA is not usable here"), device.get(0));
        } else {
            // Nothing to warn about on a machine without a GPU driver: one INFO line (the server logs at INFO).
            assertEquals(1, device.size(), "one line, once, for all models: " + device);
            assertTrue(device.get(0).startsWith("INFO") && device.get(0).endsWith("no GPU driver: serving on CPU"), device.get(0));
        }
    }

    /**
     * The packaged program loads ONNX Runtime's libraries from {@code native/} beside the jar, which the build unpacks:
     * the binding copies nothing into the temporary folder, and the server serves.
     */
    @Test
    void onnxRuntimeLoadsFromTheUnpackedLibrariesWithoutCopyingThemToTemp() throws Exception {
        Path tmp = Files.createDirectories(work.resolve("tmp"));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + tmp, "-jar", Program.JAR.toAbsolutePath().toString(), "serve", "--models",
                Program.ROOT.resolve("models").toAbsolutePath().toString(), "--port", "0", "--grpc-port", "0",
                "--device", "cpu");
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(work.toFile()).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        List<String> log = new ArrayList<>();
        List<String> inTemp = null;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                log.add(line);
                if (line.contains(" on http://127.0.0.1:") && inTemp == null) {
                    // Looked at while it runs: the binding's own copies are deleted when the JVM exits. (It makes
                    // its empty folder there either way.)
                    try (var files = Files.walk(tmp)) {
                        inTemp = files.filter(Files::isRegularFile).map(f -> tmp.relativize(f).toString()).toList();
                    }
                    p.toHandle().destroy();
                }
            }
        } finally {
            p.destroyForcibly();
        }
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertTrue(inTemp != null, "the server came up:\n" + String.join("\n", log));
        assertTrue(log.stream().anyMatch(l -> l.contains("loaded dax version 1")), String.join("\n", log));
        assertTrue(inTemp.stream().noneMatch(f -> f.contains("onnxruntime")), "copied to " + tmp + ": " + inTemp);
    }
}
