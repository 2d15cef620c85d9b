package org.lstmcast.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.lstmcast.data.DataException;
import org.lstmcast.model.Proof;
import org.lstmcast.repository.ModelRepository;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = {
            "Write a trained model as a self-contained ONNX file (opset 17): raw values in, forecasts in original "
                    + "units out, the preprocessing inside the graph.",
            "",
            "Every export is proven: ONNX Runtime runs every test window of the training run and its forecasts are "
                    + "compared with the DL4J network's; above " + "1e-4" + " relative error nothing is written."},
        footer = {"", "Exit codes: 0 exported, 1 failed (including a failed proof), 2 bad command line."})
final class ExportCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--run", paramLabel = "DIR", required = true, description = "Run directory written by `lstmcast train` (or its model.zip).")
    Path run;

    @Option(names = "--out", paramLabel = "FILE.onnx|REPO/NAME", required = true,
            description = "ONNX file to write, or a model folder in a repository: REPO/NAME/<next version>/model.onnx.")
    Path out;

    @Override
    public Integer call() throws Exception {
        Path modelZip = Files.isDirectory(run) ? run.resolve("model.zip") : run;
        if (!Files.isRegularFile(modelZip)) {
            throw new DataException(run + ": no model.zip (is it a run directory written by lstmcast train?)");
        }
        Path file = ModelRepository.outputFile(out, "--out");
        Proof.Parity parity = Reports.exportWithProof(spec.commandLine(), modelZip, file, false);
        return parity.ok() ? 0 : 1;
    }
}
