package org.lstmcast.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.lstmcast.Text;
import org.lstmcast.convert.ConvertOptions;
import org.lstmcast.convert.Converter;
import org.lstmcast.data.Transform;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "convert",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionProvider.class,
        description = {
            "Convert a model made elsewhere into one self-contained ONNX file: a Keras .h5 (Keras 2, tf.keras 2, Keras 3 "
                    + "legacy HDF5), a DL4J zip saved with ModelSerializer, or an ONNX file ONNX Runtime cannot run as "
                    + "it is (recurrent nodes with layout=1, a time-major input).",
            "",
            "The source is recognised by its content. With a scaler (--scale-min/--scale-max or --fit-scaler) the "
                    + "result takes raw values and answers in original units, like lstmcast's own exports.",
            "",
            "Every conversion is proven before anything is written: ONNX Runtime runs the result on windows (from "
                    + "--data, or drawn in the scaler's range) and its answers are compared with an independent "
                    + "forward pass of the source; above 1e-4 relative error nothing is written."},
        footer = {"", "Exit codes: 0 converted, 1 refused or failed proof (nothing written), 2 bad command line."})
final class ConvertCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SOURCE", description = "Keras .h5, DL4J .zip or .onnx file.")
    Path source;

    @Option(names = "--out", paramLabel = "FILE.onnx|REPO/NAME", required = true,
            description = "ONNX file to write, or a model folder in a repository: REPO/NAME/<next version>/model.onnx.")
    Path out;

    @Option(names = "--scale-min", split = ",", paramLabel = "V", description = "Per input feature: the MinMaxScaler's data_min_.")
    double[] scaleMin;

    @Option(names = "--scale-max", split = ",", paramLabel = "V", description = "Per input feature: the MinMaxScaler's data_max_.")
    double[] scaleMax;

    @Option(names = "--fit-scaler", paramLabel = "DATA.csv",
            description = "Fit a MinMaxScaler(0, 1) exactly as scikit-learn does on --columns of the first --train-rows rows.")
    Path fitScaler;

    @Option(names = "--columns", split = ",", paramLabel = "C", description = "The model's input features in order (for --fit-scaler and --data).")
    List<String> columns = List.of();

    @Option(names = "--train-rows", paramLabel = "N", description = "Rows the scaler was fitted on (default: all).")
    int trainRows;

    @Option(names = "--target-index", paramLabel = "I", defaultValue = "0", description = "Which input feature the output forecasts (default 0).")
    int targetIndex;

    @Option(names = "--transform", paramLabel = "level|diff|relative", defaultValue = "level",
            description = "What the model was trained on: levels (default), first differences, or values relative to the window's last.")
    String transform;

    @Option(names = "--lookback", paramLabel = "N", description = "Raw rows per window, when the model's time axis is open.")
    int lookback;

    @Option(names = "--data", paramLabel = "DATA.csv", description = "Prove the conversion on windows of --columns from this CSV.")
    Path data;

    @Option(names = "--keras-config", paramLabel = "CONFIG.json", description = "Architecture (model.to_json()) for a Keras file saved with save_weights.")
    Path kerasConfig;

    @Option(names = "--input-name", paramLabel = "NAME", description = "ONNX sources: which input (when several); kept as named.")
    String inputName;

    @Option(names = "--output-name", paramLabel = "NAME", description = "ONNX sources: which output (when several).")
    String outputName;

    @Option(names = "--layout", paramLabel = "batch_major|time_major", description = "ONNX sources: the input's layout (default: detect).")
    String layout;

    @Override
    public Integer call() throws Exception {
        Boolean timeMajor = layout == null ? null : switch (layout) {
            case "time_major" -> Boolean.TRUE;
            case "batch_major" -> Boolean.FALSE;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "--layout must be batch_major or time_major");
        };
        ConvertOptions options = ConvertOptions.defaults()
                .withScale(scaleMin, scaleMax)
                .withTarget(targetIndex, Transform.parse(transform))
                .withFit(fitScaler, columns, trainRows)
                .withData(data, columns)
                .withLookback(lookback)
                .withKerasConfig(kerasConfig)
                .withNames(inputName, outputName)
                .withTimeMajor(timeMajor);
        var outStream = spec.commandLine().getOut();
        Converter.Result result = Converter.convert(source, options);
        outStream.printf(Locale.ROOT, "source:  %s (%s), sha256 %s%n", source, result.origin(), result.sourceSha256());
        outStream.println("layers:  " + String.join(" -> ", result.layers()));
        if (result.forecasting()) {
            outStream.println("model:   " + describe(result, scaleMin != null || scaleMax != null || fitScaler != null));
        }
        result.notes().forEach(n -> outStream.println("note:    " + n));
        outStream.printf(Locale.ROOT, "proof:   %d windows through ONNX Runtime against the source: max abs error %.3g, "
                        + "max relative error %.3g (limit 1e-4)%n",
                result.parity().windows(), result.parity().maxAbsError(), result.parity().maxRelError());
        outStream.flush();
        Path written = Converter.write(result, out);
        outStream.println("wrote:   " + written);
        return 0;
    }

    /**
     * What the converted model takes and answers. Only a scaler folded in makes its answers original units: without
     * one it answers in whatever units it was trained on, which for a network trained on scaled values are scaled ones.
     */
    static String describe(Converter.Result r, boolean scaled) {
        String in = String.format(Locale.ROOT, "raw windows of %d rows in, ", r.lookback());
        if (r.probabilities()) {
            return in + Text.plural(r.horizon(), "class probability", "class probabilities")
                    + " out (a softmax head: a classifier's output, not forecasts)";
        }
        String forecasts = Text.plural(r.horizon(), "forecast");
        if (scaled) {
            return in + forecasts + " in original units out";
        }
        return in + forecasts + " out, in the units the model was trained on: no scaler was given. If it was trained on "
                + "scaled values, fold the scaler in with --scale-min/--scale-max (the MinMaxScaler's data_min_ and "
                + "data_max_) or --fit-scaler DATA.csv --columns C,... [--train-rows N], and it answers in original units";
    }
}
