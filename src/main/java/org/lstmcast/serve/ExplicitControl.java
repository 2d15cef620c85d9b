package org.lstmcast.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.NavigableMap;
import java.util.Set;

import org.lstmcast.repository.ModelRepository;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Triton's explicit model control: models load and unload only when asked, at start or by request. */
final class ExplicitControl {
    private static final Logger LOG = LoggerFactory.getLogger(ExplicitControl.class);

    private final ServeConfig config;
    private final Object lock;
    private final LoadedVersions loaded;
    private final LoadFailures failures;
    private final VersionLoader loader;
    private final RepositoryPoller poller;

    /** @param lock what changes to the loaded versions are serialized on */
    ExplicitControl(ServeConfig config, Object lock, LoadedVersions loaded, LoadFailures failures, VersionLoader loader,
                    RepositoryPoller poller) {
        this.config = config;
        this.lock = lock;
        this.loaded = loaded;
        this.failures = failures;
        this.loader = loader;
        this.poller = poller;
    }

    /** Loads the models asked for with {@code --load-model} ({@code *}: every one in the repository). */
    void loadAtStart() {
        LOG.info("explicit model control: loading {} and nothing more until asked", config.loadModels().isEmpty()
                ? "no model" : String.join(", ", config.loadModels()));
        if (config.loadModels().contains("*")) {
            poller.scan();
            return;
        }
        for (String name : config.loadModels()) {
            if (!ModelRepository.validName(name) || !Files.isDirectory(config.models().resolve(name))) {
                throw new IllegalArgumentException("--load-model " + ModelRegistry.abbreviate(name)
                        + ": no such model folder in " + config.models());
            }
            try {
                load(name);
            } catch (ApiException e) {
                // As in polling: a model that fails is reported (index, /v1/models, strict readiness), not fatal.
                LOG.warn(e.getMessage());
            }
        }
    }

    /**
     * Loads, or reloads from disk, every version folder of {@code name}: changed files are reloaded, unchanged ones
     * keep serving, failed ones are retried, removed ones retired.
     *
     * @throws ApiException 400 when the model has no folder or no version of it serves afterwards, with the reasons
     */
    void load(String name) {
        if (!ModelRepository.validName(name)) {
            throw ApiException.badRequest("failed to load '" + ModelRegistry.abbreviate(name)
                    + "': not a model name ([A-Za-z0-9][A-Za-z0-9_.-]*)");
        }
        synchronized (lock) {
            Path modelDir = config.models().resolve(name);
            if (!Files.isDirectory(modelDir)) {
                loader.retireExcept(name, Set.of(), "removed from the repository");
                throw ApiException.badRequest("failed to load '" + name + "': no folder '" + name + "' in the model repository");
            }
            // Asked explicitly: retry a failure even if its file is unchanged, its cause may lie elsewhere (--max-models).
            loader.retryFailed(name);
            try {
                poller.scanModel(name, modelDir);
            } catch (IOException e) {
                throw ApiException.badRequest("failed to load '" + name + "': cannot read its folder: "
                        + failures.withinRepository(String.valueOf(e.getMessage())));
            }
            NavigableMap<Long, ModelVersion> versions = loaded.of(name);
            if (versions != null && !versions.isEmpty()) {
                return;
            }
            List<String> reasons = failures.describe(name);
            throw ApiException.badRequest("failed to load '" + name + "': " + (reasons.isEmpty()
                    ? "no version folder with a " + ModelRepository.MODEL_FILE + " (" + name + "/<version>/"
                            + ModelRepository.MODEL_FILE + ")"
                    : String.join("; ", reasons)));
        }
    }

    /**
     * Retires every version of {@code name}; requests in flight finish first.
     *
     * @throws ApiException 400 when nothing of the model is loaded or failed
     */
    void unload(String name) {
        synchronized (lock) {
            if (!ModelRepository.validName(name) || !loader.known().contains(name)) {
                throw ApiException.badRequest("failed to unload '" + ModelRegistry.abbreviate(name)
                        + "': no version of it is loaded");
            }
            loader.retireExcept(name, Set.of(), "unloaded on request");
        }
    }
}
