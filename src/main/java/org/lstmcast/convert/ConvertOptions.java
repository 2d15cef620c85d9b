package org.lstmcast.convert;

import java.nio.file.Path;
import java.util.List;

import org.lstmcast.data.Transform;

/**
 * What the source does not carry: the scaler, the window, the transform, and which tensors to use.
 *
 * @param scaleMin     per input feature, a MinMaxScaler's {@code data_min_}; null for none
 * @param scaleMax     per input feature, {@code data_max_}
 * @param fitScaler    a CSV to fit the scaler on ({@code columns}, first {@code trainRows} rows); null for none
 * @param lookback     raw rows per window when the source leaves its time axis open; 0 to take it from the source
 * @param data         a CSV whose windows (of {@code columns}) prove the conversion; null to draw windows
 * @param timeMajor    for ONNX sources: the input's layout, or null to detect it
 * @param kerasConfig  the architecture JSON for a Keras file saved with {@code save_weights}
 */
public record ConvertOptions(double[] scaleMin, double[] scaleMax, int targetIndex, Path fitScaler, List<String> columns,
                             int trainRows, Transform transform, int lookback, String inputName, String outputName,
                             Boolean timeMajor, Path data, Path kerasConfig, int proofWindows) {

    public static ConvertOptions defaults() {
        return new ConvertOptions(null, null, 0, null, List.of(), 0, Transform.LEVEL, 0, null, null, null, null, null, 64);
    }

    public ConvertOptions withScale(double[] min, double[] max) {
        return new ConvertOptions(min, max, targetIndex, fitScaler, columns, trainRows, transform, lookback, inputName,
                outputName, timeMajor, data, kerasConfig, proofWindows);
    }

    public ConvertOptions withLookback(int rows) {
        return new ConvertOptions(scaleMin, scaleMax, targetIndex, fitScaler, columns, trainRows, transform, rows, inputName,
                outputName, timeMajor, data, kerasConfig, proofWindows);
    }

    public ConvertOptions withKerasConfig(Path config) {
        return new ConvertOptions(scaleMin, scaleMax, targetIndex, fitScaler, columns, trainRows, transform, lookback,
                inputName, outputName, timeMajor, data, config, proofWindows);
    }

    public ConvertOptions withTimeMajor(Boolean layout) {
        return new ConvertOptions(scaleMin, scaleMax, targetIndex, fitScaler, columns, trainRows, transform, lookback,
                inputName, outputName, layout, data, kerasConfig, proofWindows);
    }

    public ConvertOptions withNames(String input, String output) {
        return new ConvertOptions(scaleMin, scaleMax, targetIndex, fitScaler, columns, trainRows, transform, lookback,
                input, output, timeMajor, data, kerasConfig, proofWindows);
    }

    public ConvertOptions withFit(Path csv, List<String> cols, int rows) {
        return new ConvertOptions(scaleMin, scaleMax, targetIndex, csv, cols, rows, transform, lookback, inputName,
                outputName, timeMajor, data, kerasConfig, proofWindows);
    }

    public ConvertOptions withTarget(int index, Transform t) {
        return new ConvertOptions(scaleMin, scaleMax, index, fitScaler, columns, trainRows, t, lookback, inputName,
                outputName, timeMajor, data, kerasConfig, proofWindows);
    }

    public ConvertOptions withData(Path csv, List<String> cols) {
        return new ConvertOptions(scaleMin, scaleMax, targetIndex, fitScaler, cols, trainRows, transform, lookback, inputName,
                outputName, timeMajor, csv, kerasConfig, proofWindows);
    }
}
