package org.lstmcast.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
        footer = {"", "Exit codes: 0 described (servable or not), 1 not a readable ONNX file, 2 bad command line."})
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
        return root;
    }

    @Override
    public Integer call() throws Exception {
        ModelReport r = OnnxInspector.inspect(file);
        PrintWriter out = spec.commandLine().getOut();
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
                out.printf("  servable    yes: windows of %s rows x %d features %s -> %d steps%n",
                        f.lookback() > 0 ? Integer.toString(f.lookback()) : "any number of", f.featureCount(),
                        f.features(), f.horizon());
            } else {
                out.println("  servable    no");
                r.problems().forEach(p -> out.println("    - " + p));
            }
            r.notes().forEach(n -> out.println("  note        " + n));
        }
        out.flush();
        return 0;
    }
}
