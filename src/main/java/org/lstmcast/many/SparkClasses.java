package org.lstmcast.many;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Finds Spark and {@code org.lstmcast.spark} for {@link SparkJobs#load()}. */
final class SparkClasses {
    private static final String IMPLEMENTATION = "org.lstmcast.spark.Jobs";
    private static final String OWN_PACKAGE = "org.lstmcast.spark.";
    private static final String SPARK = "org.apache.spark.sql.SparkSession";
    private static SparkJobs jobs;

    private SparkClasses() {
    }

    static synchronized SparkJobs jobs() {
        if (jobs == null) {
            ClassLoader own = SparkJobs.class.getClassLoader();
            ClassLoader loader = visible(own) ? own : sparkLib(own);
            try {
                jobs = (SparkJobs) Class.forName(IMPLEMENTATION, true, loader).getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot load " + IMPLEMENTATION + ": " + e, e);
            }
        }
        return jobs;
    }

    private static boolean visible(ClassLoader loader) {
        try {
            Class.forName(SPARK, false, loader);
            return true;
        } catch (ClassNotFoundException | LinkageError e) {
            return false;
        }
    }

    /** spark-lib/'s jars beside the program's jar, or NoClassDefFoundError when there are none. */
    private static ClassLoader sparkLib(ClassLoader own) {
        CodeSource source = SparkJobs.class.getProtectionDomain().getCodeSource();
        List<URL> jars = new ArrayList<>();
        try {
            Path lib = Path.of(source.getLocation().toURI()).toAbsolutePath().getParent().resolve("spark-lib");
            if (Files.isDirectory(lib)) {
                try (Stream<Path> files = Files.list(lib)) {
                    for (Path jar : files.filter(f -> f.toString().endsWith(".jar")).sorted().toList()) {
                        jars.add(jar.toUri().toURL());
                    }
                }
            }
        } catch (URISyntaxException | MalformedURLException | RuntimeException e) {
            // An unusual code source (not a file): no spark-lib to find, as below.
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (jars.isEmpty()) {
            throw new NoClassDefFoundError(SPARK.replace('.', '/'));
        }
        return new Loader(jars.toArray(new URL[0]), own, source);
    }

    /**
     * Spark's jars after the program's class path, as one class path would order them, except for
     * {@code org.lstmcast.spark}: those classes are in the program's jar, and are defined here so that their references
     * to Spark resolve here. Hand-written because no JDK loader delegates one package to the child.
     */
    static final class Loader extends URLClassLoader {
        static {
            registerAsParallelCapable();
        }

        private final CodeSource source;

        Loader(URL[] jars, ClassLoader parent, CodeSource source) {
            super("spark", jars, parent);
            this.source = source;
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (!name.startsWith(OWN_PACKAGE)) {
                return super.loadClass(name, resolve);
            }
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                if (c == null) {
                    byte[] bytes;
                    try (InputStream in = getParent().getResourceAsStream(name.replace('.', '/') + ".class")) {
                        if (in == null) {
                            throw new ClassNotFoundException(name);
                        }
                        bytes = in.readAllBytes();
                    } catch (IOException e) {
                        throw new ClassNotFoundException(name, e);
                    }
                    c = defineClass(name, bytes, 0, bytes.length, source);
                }
                if (resolve) {
                    resolveClass(c);
                }
                return c;
            }
        }
    }
}
