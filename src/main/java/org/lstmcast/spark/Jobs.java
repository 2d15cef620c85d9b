package org.lstmcast.spark;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.lstmcast.many.JobProgress;
import org.lstmcast.many.LongFormat;
import org.lstmcast.many.SeriesForecast;
import org.lstmcast.many.SparkJobs;

/**
 * {@link SparkJobs} on this package's classes. Each call runs with this class's loader as the thread's context loader:
 * Spark finds its data sources and codecs, and its executors the tasks' classes, through that loader, which is the
 * program's own only when Spark is on the program's class path.
 */
public final class Jobs implements SparkJobs {
    public Jobs() {
    }

    @Override
    public TrainSummary trainMany(TrainJob job, JobProgress progress) throws IOException {
        return inContext(() -> TrainMany.run(job, progress));
    }

    @Override
    public PredictSummary predictMany(PredictJob job, JobProgress progress) throws IOException {
        return inContext(() -> PredictMany.run(job, progress));
    }

    @Override
    public Map<String, List<LongFormat.Row>> readSeries(String data, LongFormat format, String master)
            throws IOException {
        return inContext(() -> SeriesRows.read(data, format, master));
    }

    @Override
    public void writeParquet(Path out, List<SeriesForecast> forecasts) throws IOException {
        inContext(() -> {
            PredictMany.writeParquet(out, forecasts);
            return null;
        });
    }

    private interface Work<T> {
        T run() throws IOException;
    }

    private static <T> T inContext(Work<T> work) throws IOException {
        Thread thread = Thread.currentThread();
        ClassLoader before = thread.getContextClassLoader();
        thread.setContextClassLoader(Jobs.class.getClassLoader());
        try {
            return work.run();
        } finally {
            thread.setContextClassLoader(before);
        }
    }
}
