package org.lstmcast.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the packaged {@code lstmcast.jar} as a separate process, the way a user does. */
final class Program {
    record Result(int code, String out, String err) {
    }

    static final Path JAR = Path.of(System.getProperty("lstmcast.jar", "target/lstmcast.jar"));
    static final Path ROOT = Path.of(System.getProperty("lstmcast.root", "."));

    private Program() {
    }

    static Result run(Path workDir, String... args) throws IOException, InterruptedException {
        if (!Files.isRegularFile(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run `./mvnw verify`, which packages it first");
        }
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx1g", "-jar", JAR.toAbsolutePath().toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile("lstmcast-out", ".txt");
        Path err = Files.createTempFile("lstmcast-err", ".txt");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).directory(workDir.toFile())
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("OMP_NUM_THREADS", "1");
            Process p = pb.start();
            if (!p.waitFor(10, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("lstmcast " + String.join(" ", args) + " did not finish in 10 minutes");
            }
            return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
