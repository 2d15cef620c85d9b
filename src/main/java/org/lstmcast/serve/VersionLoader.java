package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;

import ai.onnxruntime.OrtException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.lstmcast.forecast.OrtErrors;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;
import org.lstmcast.repository.ModelRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings version files into service and takes them out: opens a version (converting a drop-in file first), puts it in
 * place of the one it replaces, records why it failed, and retires versions whose folders are gone. It remembers each
 * file's stamp, so that an unchanged file is not loaded again, and owns each folder's meters. Callers serialize
 * changes on the registry's lock.
 */
final class VersionLoader {
    private static final Logger LOG = LoggerFactory.getLogger(VersionLoader.class);

    /**
     * The identity of a version's files for change detection (model.onnx, and the forecast.json and config.json of
     * its model, which change how it serves): a copy in progress changes size or time between polls.
     */
    private record Stamp(List<Long> sizesAndTimes) {
        static Stamp of(Path... files) throws IOException {
            List<Long> parts = new ArrayList<>();
            for (Path f : files) {
                if (Files.exists(f)) {
                    BasicFileAttributes a = Files.readAttributes(f, BasicFileAttributes.class);
                    parts.add(a.size());
                    parts.add(a.lastModifiedTime().toMillis());
                } else {
                    parts.add(-1L);
                    parts.add(-1L);
                }
            }
            return new Stamp(List.copyOf(parts));
        }
    }

    /** No version could be evicted to make room for a load: all are in use. */
    private static final class NoRoom extends RuntimeException {
        NoRoom(String message) {
            super(message);
        }
    }

    private final ServeConfig config;
    private final Device device;
    private final LoadedVersions loaded;
    private final LoadFailures failures;
    private final LruEviction eviction;
    private final BooleanSupplier eager;
    private final Executor closer;
    private final Executor workers;
    private final Map<String, Stamp> stamps = new ConcurrentHashMap<>();
    private final FolderMeters meters;
    /** Version keys whose file is being opened now, for the repository index. */
    private final Set<String> loading = ConcurrentHashMap.newKeySet();
    private final Counter loadsOk;
    private final Counter loadsFailed;
    private final Timer loadTime;

    /**
     * @param eager   whether every version found is loaded, which logs each load at INFO
     * @param closer  where retired versions close
     * @param workers the batcher workers every version shares
     */
    VersionLoader(ServeConfig config, MeterRegistry metrics, FolderMeters meters, LoadedVersions loaded, LoadFailures failures,
                  LruEviction eviction, BooleanSupplier eager, Executor closer, Executor workers) {
        this.config = config;
        this.device = Device.parse(config.device());
        this.meters = meters;
        this.loaded = loaded;
        this.failures = failures;
        this.eviction = eviction;
        this.eager = eager;
        this.closer = closer;
        this.workers = workers;
        this.loadsOk = Counter.builder("lstmcast_model_loads_total").description("Model version loads by outcome")
                .tag("outcome", "success").register(metrics);
        this.loadsFailed = Counter.builder("lstmcast_model_loads_total").description("Model version loads by outcome")
                .tag("outcome", "failure").register(metrics);
        this.loadTime = Timer.builder("lstmcast_model_load_seconds").description("Time to load a model version")
                .register(metrics);
    }

    /** Whether the file of {@code "name/version"} is being opened now. */
    boolean loading(String key) {
        return loading.contains(key);
    }

    /** Forgets the stamps of the failed versions of {@code name}, so that the next refresh tries them again. */
    void retryFailed(String name) {
        stamps.keySet().removeIf(k -> k.startsWith(name + "/") && failures.failed(k));
    }

    /**
     * Opens a version file and puts it in service, unless it is unchanged since it was last seen; a failure is
     * recorded with its reason, and the version it would replace keeps serving.
     *
     * @param onDemand load even if the file is unchanged since it was last seen (a first request, or after eviction);
     *                 then a full repository is answered with a 503 rather than left for a later scan
     */
    void refresh(String name, long version, Path modelDir, Path file, boolean onDemand) {
        String key = name + "/" + version;
        Stamp stamp;
        try {
            stamp = Stamp.of(file, modelDir.resolve(ModelRepository.FORECAST_FILE), modelDir.resolve(ModelRepository.CONFIG_FILE));
        } catch (IOException e) {
            return;
        }
        if (!onDemand && stamp.equals(stamps.get(key))) {
            return;
        }
        stamps.put(key, stamp);
        loading.add(key);
        try {
            Path real = file.toRealPath();
            if (!real.startsWith(config.models().toRealPath())) {
                throw new IllegalArgumentException("model.onnx resolves to " + real + ", outside the repository; refused");
            }
            ModelSettings settings = ModelSettings.read(modelDir, config);
            if (DropIn.needsConversion(file)) {
                // Converted off the request path, proven, and cached beside the source; forecast.json is folded in.
                long convertStart = System.nanoTime();
                DropIn.Converted c = DropIn.convert(file, settings);
                LOG.info("{} {} version {}: {}", c.reused() ? "reusing the conversion of" : "converted", name, version,
                        c.summary() + " in " + (System.nanoTime() - convertStart) / 1_000_000 + " ms");
                file = c.file();
                settings = settings.withoutForecast();
            }
            ModelReport report = OnnxInspector.inspect(file, false);
            if (report.unsafe()) {
                throw new IllegalArgumentException(String.join("; ", report.problems()) + "; refused");
            }
            boolean replacing = loaded.has(name, version);
            int count = loaded.count();
            if (!replacing && count >= config.loadBound() && !(eviction.active() && eviction.makeRoom())) {
                if (eviction.active()) {
                    throw new NoRoom("all " + count + " loaded model versions have requests in flight (--max-loaded); retry");
                }
                throw new IllegalStateException("not loaded: " + count + " model versions are loaded, the limit ("
                        + (config.maxLoaded() > 0 ? "--max-loaded" : "--max-models") + ")");
            }
            VersionMeters versionMeters = meters.of(name, version);
            long start = System.nanoTime();
            ModelVersion opened;
            try {
                opened = ModelVersion.load(name, version, file, report, settings, config, device, versionMeters, closer,
                        workers);
            } catch (OrtException e) {
                if (!replacing) {
                    meters.close(key);
                }
                // The inspector's account says why (e.g. an LSTM with layout=1) beside ONNX Runtime's own message.
                List<String> reasons = new ArrayList<>(report.problems());
                reasons.add(OnnxInspector.LOAD_FAILURE + OrtErrors.message(e));
                throw new IllegalArgumentException(String.join("; ", reasons), e);
            } catch (RuntimeException | Error e) {
                if (!replacing) {
                    meters.close(key);
                }
                throw e;
            }
            loadTime.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
            loadsOk.increment();
            ModelVersion old = loaded.put(opened);
            failures.clear(key);
            if (old != null) {
                old.retire();
            }
            LOG.atLevel(eager.getAsBoolean() || old != null ? org.slf4j.event.Level.INFO : org.slf4j.event.Level.DEBUG).log(
                    "{} {} version {} in {} ms on {}: {} -> {}; {}", old == null ? "loaded" : "reloaded", name, version,
                    (System.nanoTime() - start) / 1_000_000, opened.provider, signature(opened.inputs),
                    signature(opened.outputs), opened.canForecast() ? "forecasts with lookback " + opened.spec.lookback()
                            + ", horizon " + opened.spec.horizon() + (opened.spec.timeMajor() ? ", time-major" : "")
                            : "inference protocol only (" + opened.notForecasting + ")");
        } catch (NoRoom e) {
            // Not the file's fault: nothing is recorded against it, and the request is told to come back.
            stamps.remove(key);
            if (onDemand) {
                throw ApiException.unavailable(e.getMessage());
            }
            LOG.debug("{} version {} not loaded yet: {}", name, version, e.getMessage());
        } catch (Exception | LinkageError e) {
            loadsFailed.increment();
            String reason = e.getMessage() == null ? e.getClass().getSimpleName()
                    : failures.withinRepository(OrtErrors.clean(e.getMessage()));
            failures.record(key, reason);
            LOG.warn("cannot load {} version {}: {}", name, version, reason);
        } finally {
            loading.remove(key);
        }
    }

    /**
     * Retires the versions of {@code name} not in {@code keep} (after their in-flight requests) and forgets their
     * failures, stamps and meters.
     */
    void retireExcept(String name, Set<String> keep, String why) {
        var versions = loaded.of(name);
        if (versions != null) {
            for (Long v : List.copyOf(versions.keySet())) {
                if (!keep.contains(name + "/" + v)) {
                    ModelVersion old = loaded.remove(name, v);
                    LOG.info("unloading {} version {}: {}", name, v, why);
                    if (old != null) {
                        old.retire();
                    }
                }
            }
        }
        Predicate<String> gone = k -> k.startsWith(name + "/") && !keep.contains(k);
        failures.forget(gone);
        stamps.keySet().removeIf(gone);
        meters.close(gone);
    }

    /** Model names with anything loaded, failed or metered. */
    Set<String> known() {
        Set<String> names = new HashSet<>(loaded.names());
        for (Set<String> keys : List.of(failures.keys(), stamps.keySet(), meters.keys())) {
            keys.forEach(k -> names.add(k.substring(0, k.indexOf('/'))));
        }
        return names;
    }

    /** {@code x[-1,-1,1] FP32}, for the log. */
    private static String signature(List<TensorDescription> tensors) {
        StringBuilder sb = new StringBuilder();
        for (TensorDescription t : tensors) {
            sb.append(sb.length() > 0 ? ", " : "").append(t.name())
                    .append(t.isTensor() ? Arrays.toString(t.shape()).replace(" ", "") : "")
                    .append(' ').append(t.isTensor() ? t.datatype() : "?");
        }
        return sb.toString();
    }
}
