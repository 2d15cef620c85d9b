package org.lstmcast.spark;

import org.apache.spark.sql.SparkSession;

/** The one place a Spark session is configured for lstmcast's jobs. */
final class Sessions {
    private Sessions() {
    }

    /**
     * @param master a Spark master URL; null for the one {@code spark-submit} set, else {@code local[*]}
     */
    static SparkSession open(String master) {
        String m = master != null ? master : System.getProperty("spark.master", "local[*]");
        SparkSession.Builder builder = SparkSession.builder()
                .appName("lstmcast")
                .master(m)
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                // The jobs partition by series themselves; coalescing small partitions would put every series in one task.
                .config("spark.sql.adaptive.coalescePartitions.enabled", "false")
                // Parallelism comes from tasks: one native thread each for ND4J and ONNX Runtime.
                .config("spark.executorEnv.OMP_NUM_THREADS", "1");
        if (m.startsWith("local")) {
            // A laptop or an air-gapped server: nothing to bind beyond loopback, no host name to resolve.
            builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
        }
        return builder.getOrCreate();
    }
}
