package org.lstmcast.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.lstmcast.Text;
import org.lstmcast.convert.ConvertOptions;
import org.lstmcast.convert.Converter;
import org.lstmcast.forecast.ForecastSpec;
import org.lstmcast.global.GlobalSpec;
import org.lstmcast.model.ConversionException;
import org.lstmcast.onnx.ModelReport;
import org.lstmcast.onnx.OnnxInspector;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "inspect",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = "Describe an ONNX file (inputs, outputs, opsets, operators, metadata) and say whether lstmcast "
                + "can forecast with it, and if not, why.",
        footer = {"", "Exit codes: 0 described (servable or not), 1 not a readable model file (ONNX, Keras .h5, DL4J .zip), "
                + "2 bad command line."})
final class InspectCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "FILE.onnx", description = "The model file.")
    Path file;

    @Option(names = "--json", description = "Print the report as JSON.")
    boolean json;

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /**
     * The report as JSON for scripts: a fixed dim is a number and a symbolic one its name, so {@code dims[2] == 1}
     * works without parsing; an unknown dim is null. A model that takes windows of any length has no lookback, and
     * {@code lookback: 0} would read as a size, so the key is left out.
     */
    private static ObjectNode json(ModelReport r) {
        ObjectNode root = JSON.valueToTree(r);
        for (String side : List.of("inputs", "outputs")) {
            for (JsonNode tensor : root.path(side)) {
                ArrayNode dims = JSON.createArrayNode();
                for (JsonNode d : tensor.path("dims")) {
                    String text = d.asText();
                    if (text.equals("?")) {
                        dims.addNull();
                    } else if (text.matches("\\d{1,18}")) {
                        dims.add(Long.parseLong(text));
                    } else {
                        dims.add(text);
                    }
                }
                ((ObjectNode) tensor).set("dims", dims);
            }
        }
        if (root.path("forecast").path("lookback").asInt(-1) == 0) {
            ((ObjectNode) root.path("forecast")).remove("lookback");
        }
        GlobalSpec global = GlobalSpec.fromMetadata(r.metadata());
        if (global != null) {
            root.set("global", JSON.valueToTree(global));
        }
        return root;
    }

    /** A Keras file or a DL4J zip: whether and how it converts, found by converting it in memory. */
    private int describeSource(PrintWriter out) throws IOException {
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("file", file.toString());
        try {
            Converter.Result r = Converter.convert(file,
                    ConvertOptions.defaults());
            report.put("source", r.origin());
            report.put("layers", r.layers());
            report.put("converts", r.parity().ok());
            report.put("forecaster", r.forecasting());
            if (r.forecasting()) {
                report.put("lookback", r.lookback());
                report.put("horizon", r.horizon());
            }
            if (r.probabilities()) {
                report.put("output", "class probabilities (a softmax head), not forecasts");
            }
            report.put("notes", r.notes());
            report.put("proof_max_rel_error", r.parity().maxRelError());
            report.put("how", "lstmcast convert " + file + " --out REPO/NAME" + (r.probabilities() ? ""
                    : " (add --scale-min/--scale-max or --fit-scaler when it was trained on scaled values)")
                    + ", or drop it into a repository as <name>/<version>/"
                    + (file.getFileName().toString().endsWith(".zip") ? "model.zip" : file.getFileName().toString().endsWith(".onnx")
                    ? "model.onnx" : "model.h5") + " with the scaler in forecast.json");
        } catch (ConversionException e) {
            if (e.unreadable()) {
                // Nothing to describe: a damaged file is a failure, as an unreadable ONNX file is.
                throw e;
            }
            report.put("converts", false);
            report.put("reason", e.getMessage());
        }
        if (json) {
            out.println(JSON.writeValueAsString(report));
        } else {
            report.forEach((k, v) -> out.println(k + ": " + (v instanceof List<?> l ? String.join(" -> ", l.stream().map(String::valueOf).toList()) : v)));
        }
        out.flush();
        return 0;
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Converter.Kind kind = Files.isRegularFile(file)
                ? Converter.detect(file) : Converter.Kind.ONNX;
        // An ONNX file always gets the ONNX report, which names a layout=1 node and points to convert.
        if (kind != Converter.Kind.ONNX) {
            return describeSource(out);
        }
        ModelReport r = OnnxInspector.inspect(file);
        if (json) {
            out.println(JSON.writeValueAsString(json(r)));
        } else {
            out.println(r.file());
            out.println("  producer    " + (r.producer().isEmpty() ? "(not recorded)" : r.producer()));
            out.println("  ir_version  " + r.irVersion() + ", opsets " + r.opsets());
            for (ModelReport.Tensor t : r.inputs()) {
                out.printf("  input       %s  %s %s%n", t.name(), t.type(), t.dims());
            }
            for (ModelReport.Tensor t : r.outputs()) {
                out.printf("  output      %s  %s %s%n", t.name(), t.type(), t.dims());
            }
            out.println("  operators   " + r.operators());
            if (!r.docString().isEmpty()) {
                out.println("  doc         " + r.docString());
            }
            r.metadata().forEach((k, v) -> out.printf("  metadata    %s = %s%n", k, v.length() > 160 ? v.substring(0, 157) + "..." : v));
            if (r.servable()) {
                var f = r.forecast();
                out.printf("  servable    yes: windows of %s rows x %s %s -> %s%n",
                        f.lookback() > 0 ? Integer.toString(f.lookback()) : "any number of",
                        Text.plural(f.featureCount(), "feature"), f.features(),
                        Text.plural(f.horizon(), "step"));
            } else {
                out.println("  servable    no");
                r.problems().forEach(p -> out.println("    - " + p));
            }
            String network = r.metadata().get(ForecastSpec.KEY_NETWORK);
            if (network != null) {
                out.println("  network     " + network + (r.metadata().containsKey("fitted_on") ? "; fitted on "
                        + r.metadata().get("fitted_on") : ""));
            }
            GlobalSpec global = GlobalSpec.fromMetadata(r.metadata());
            if (global != null) {
                out.println("  global      " + global.describe());
            }
            r.notes().forEach(n -> out.println("  note        " + n));
        }
        out.flush();
        return 0;
    }
}
