package org.lstmcast.forecast;

/**
 * Min-max scaling for a model trained on scaled values that does not scale inside its graph: inputs are fed as
 * {@code (x - min) / (max - min)} per feature, outputs are mapped back with the target feature's min and max.
 */
public record Scaling(double[] min, double[] max, int targetIndex) {

    public Scaling {
        if (min.length != max.length || min.length == 0) {
            throw new IllegalArgumentException("scaling needs one min and one max per feature");
        }
        if (targetIndex < 0 || targetIndex >= min.length) {
            throw new IllegalArgumentException("target_index " + targetIndex + " is not a feature (0.." + (min.length - 1) + ")");
        }
        for (int i = 0; i < min.length; i++) {
            if (!(max[i] > min[i]) || !Double.isFinite(min[i]) || !Double.isFinite(max[i])) {
                throw new IllegalArgumentException("scaling needs finite min < max for every feature (feature " + i + ")");
            }
        }
    }

    float in(int feature, float x) {
        return (float) ((x - min[feature]) / (max[feature] - min[feature]));
    }

    float out(float y) {
        return (float) (y * (max[targetIndex] - min[targetIndex]) + min[targetIndex]);
    }
}
