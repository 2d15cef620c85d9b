package org.lstmcast.onnx;

import java.util.List;
import java.util.Map;

import org.lstmcast.forecast.ForecastSpec;

/**
 * What an ONNX file is and whether lstmcast can forecast with it.
 *
 * @param operators       operator type to number of nodes, main graph and subgraphs together
 * @param servable        whether {@code serve} and {@code predict} can forecast with it as it stands
 * @param problems        why not, one reason each; empty when servable
 * @param notes           things worth knowing that do not stop forecasting
 * @param forecast        the forecast settings found (metadata or signature), or null
 * @param unsafe          true when loading the file would read data outside its folder; it must not be loaded
 */
public record ModelReport(String file, long irVersion, Map<String, Long> opsets, String producer, String docString,
                          List<Tensor> inputs, List<Tensor> outputs, Map<String, Integer> operators,
                          Map<String, String> metadata, boolean servable, List<String> problems, List<String> notes,
                          ForecastSpec forecast, boolean unsafe) {

    /**
     * A graph input or output. Dims are numbers for fixed sizes, names for symbolic ones and "?" for unknown.
     */
    public record Tensor(String name, String type, List<String> dims) {
        public int rank() {
            return dims.size();
        }

        /** A fixed dim's size, or -1 when the dim is symbolic or unknown. */
        public long fixed(int axis) {
            try {
                return Long.parseLong(dims.get(axis));
            } catch (NumberFormatException e) {
                return -1;
            }
        }
    }
}
