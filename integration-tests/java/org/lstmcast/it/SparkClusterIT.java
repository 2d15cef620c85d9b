package org.lstmcast.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lstmcast.cli.Main;

/**
 * train-many and predict-many submitted to a real Spark standalone cluster on this machine: a master, a worker and
 * its executor, each its own JVM, started from Spark's own classes, with lstmcast's jars shipped by
 * {@code spark-submit} as docs/MANY_SERIES.md's cluster section says. The tasks run in the executor; their output
 * must be exactly what {@code local[2]} gives.
 */
class SparkClusterIT {
    @TempDir
    Path work;

    private final List<Process> cluster = new ArrayList<>();

    /** The JDK packages Spark needs open, as the jar's manifest lists them. */
    private static List<String> addOpens() throws IOException {
        try (JarFile jar = new JarFile(Program.JAR.toFile())) {
            String opens = jar.getManifest().getMainAttributes().getValue("Add-Opens");
            return Stream.of(opens.trim().split("\\s+")).map(p -> "--add-opens=" + p + "=ALL-UNNAMED").toList();
        }
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** The jars the packaged program's class path names, from its manifest: lib/... */
    private static List<String> classPath() throws IOException {
        try (JarFile jar = new JarFile(Program.JAR.toFile())) {
            return List.of(jar.getManifest().getMainAttributes().getValue("Class-Path").trim().split("\\s+"));
        }
    }

    /** A Spark installation's layout: jars/ (Spark and what it depends on: the program's spark-lib/ and lib/) and RELEASE. */
    private Path sparkHome() throws IOException {
        Path home = Files.createDirectories(work.resolve("spark"));
        Path jars = Files.createDirectories(home.resolve("jars"));
        Path target = Program.JAR.toAbsolutePath().getParent();
        List<String> entries = new ArrayList<>(classPath());
        try (Stream<Path> spark = Files.list(target.resolve("spark-lib"))) {
            spark.map(p -> "spark-lib/" + p.getFileName()).sorted().forEach(entries::add);
        }
        for (String entry : entries) {
            Path jar = target.resolve(entry);
            if (!Files.exists(jars.resolve(jar.getFileName()))) {
                Files.createSymbolicLink(jars.resolve(jar.getFileName()), jar);
            }
        }
        Files.writeString(home.resolve("RELEASE"), "Spark 4.2.0\n");
        return home;
    }

    private Process start(Path home, String name, String waitFor, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-Xmx512m"));
        command.addAll(addOpens());
        command.addAll(List.of("-Dspark.master.rest.enabled=false", "-cp", home.resolve("jars") + "/*"));
        command.addAll(List.of(args));
        Path log = work.resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("SPARK_SCALA_VERSION", "2.13");
        Process p = pb.start();
        cluster.add(p);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(log, StandardCharsets.UTF_8).contains(waitFor)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " did not start:\n" + Files.readString(log, StandardCharsets.UTF_8));
            }
            Thread.sleep(200);
        }
        return p;
    }

    private Program.Result submit(Path home, Path app, String master, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(java(), "-Xmx1g"));
        command.addAll(addOpens());
        command.addAll(List.of("-cp", home.resolve("jars") + "/*", "org.apache.spark.deploy.SparkSubmit",
                "--master", master, "--class", "org.lstmcast.cli.Main"));
        List<String> libs = classPath().stream().filter(e -> e.startsWith("lib/")).toList();
        command.addAll(List.of("--jars", String.join(",", libs), "--conf", "spark.executorEnv.OMP_NUM_THREADS=1",
                "--executor-memory", "1g", "lstmcast.jar"));
        command.addAll(List.of(args));
        Path out = work.resolve("submit-out.txt");
        Path err = work.resolve("submit-err.txt");
        ProcessBuilder pb = new ProcessBuilder(command).directory(app.toFile()).redirectOutput(out.toFile())
                .redirectError(err.toFile());
        pb.environment().put("SPARK_HOME", home.toString());
        pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
        pb.environment().put("OMP_NUM_THREADS", "1");
        Process p = pb.start();
        if (!p.waitFor(8, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new IllegalStateException("spark-submit did not finish in 8 minutes");
        }
        return new Program.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    @Test
    void theSameJobsRunOnAStandaloneClusterThroughSparkSubmit() throws Exception {
        List<String> lines = new ArrayList<>(List.of("item_id,timestamp,target_value"));
        for (int k = 0; k < 3; k++) {
            for (int t = 0; t < 100; t++) {
                double v = Math.pow(1000, k) * (30 + 6 * Math.cos(2 * Math.PI * t / 7) + 0.1 * t);
                lines.add("shop-" + k + "," + LocalDate.of(2023, 3, 1).plusDays(t) + ","
                        + (k == 2 && t == 70 ? "" : String.format(Locale.ROOT, "%.4f", v)));
            }
        }
        Path data = work.resolve("long.csv");
        Files.write(data, lines);
        String[] columns = {"--id-column", "item_id", "--time-column", "timestamp", "--target", "target_value"};

        // The application as that section ships it: lstmcast.jar and lib/, without spark-lib/.
        Path app = Files.createDirectories(work.resolve("app"));
        Files.copy(Program.JAR, app.resolve("lstmcast.jar"));
        Files.createSymbolicLink(app.resolve("lib"), Program.JAR.toAbsolutePath().getParent().resolve("lib"));
        Path home = sparkHome();
        int port = ServerProcess.freePort();
        String master = "spark://127.0.0.1:" + port;
        try {
            start(home, "master", "I have been elected leader", "org.apache.spark.deploy.master.Master",
                    "--host", "127.0.0.1", "--port", Integer.toString(port), "--webui-port", "0");
            start(home, "worker", "Successfully registered with master", "org.apache.spark.deploy.worker.Worker",
                    master, "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", "0",
                    "--work-dir", work.resolve("executors").toString());

            List<String> train = new ArrayList<>(List.of("train-many", "--data", data.toString()));
            train.addAll(List.of(columns));
            train.addAll(List.of("--lookback", "14", "--horizon", "3", "--epochs", "3", "--out", work.resolve("runs").toString(),
                    "--export", work.resolve("repo").toString()));
            Program.Result trained = submit(home, app, master, train.toArray(new String[0]));
            assertEquals(101, trained.code(), trained.err());
            assertTrue(trained.out().contains("Trained 2 of 3 series"), trained.out() + trained.err());
            assertTrue(trained.err().contains("series 'shop-2' failed: " + data + " line 272, column 'target_value': empty cell"),
                    trained.err());
            assertTrue(Files.isRegularFile(work.resolve("repo/shop-0/1/model.onnx")));
            assertTrue(Files.isRegularFile(work.resolve("runs/shop-1/forecast.png")));
            // The worker launched an executor, a JVM of its own; with a cluster master the driver runs no tasks itself.
            String executorLog;
            try (Stream<Path> logs = Files.walk(work.resolve("executors"))) {
                executorLog = logs.filter(p -> p.getFileName().toString().equals("stderr")).map(p -> {
                    try {
                        return Files.readString(p, StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }).reduce("", String::concat);
            }
            assertTrue(executorLog.contains("Spark Executor Command"), executorLog.length() > 4000
                    ? executorLog.substring(executorLog.length() - 4000) : executorLog);

            List<String> predict = new ArrayList<>(List.of("predict-many", "--data", data.toString()));
            predict.addAll(List.of(columns));
            predict.addAll(List.of("--models", work.resolve("repo").toString(), "--horizon", "5", "--out",
                    work.resolve("cluster.csv").toString()));
            Program.Result forecast = submit(home, app, master, predict.toArray(new String[0]));
            assertEquals(101, forecast.code(), forecast.err());
        } finally {
            for (Process p : cluster) {
                p.destroy();
                if (!p.waitFor(20, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
        }
        List<String> local = new ArrayList<>(List.of("predict-many", "--data", data.toString(), "--master", "local[2]"));
        local.addAll(List.of(columns));
        local.addAll(List.of("--models", work.resolve("repo").toString(), "--horizon", "5", "--out",
                work.resolve("local.csv").toString(), "--quiet"));
        Program.Result here = Program.run(work, local.toArray(new String[0]));
        assertEquals(101, here.code(), here.err());
        List<String> fromCluster = Files.readAllLines(work.resolve("cluster.csv"));
        assertEquals(1 + 2 * 5, fromCluster.size());
        assertEquals(Files.readAllLines(work.resolve("local.csv")), fromCluster);
    }
}
