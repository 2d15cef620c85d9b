package org.lstmcast.forecast;

import java.util.Arrays;

/**
 * Checks a tensor against the model's declared input before it reaches ONNX Runtime. The runtime does not answer
 * every bad shape with an error: an LSTM given a zero-length dimension aborts the whole process, so nothing that
 * could be refused here may be left to it.
 */
public final class TensorCheck {
    private TensorCheck() {
    }

    /**
     * Refuses a shape whose rank differs from the declared one, any dimension below 1, or a dimension that differs
     * from a fixed declared one.
     *
     * @param declared the model's declared shape, -1 (or any negative) for a dimension it leaves open
     */
    public static void shape(String input, long[] given, long[] declared) {
        boolean fits = given.length == declared.length;
        for (int i = 0; fits && i < given.length; i++) {
            fits = given[i] >= 1 && (declared[i] < 0 || declared[i] == given[i]);
        }
        if (!fits) {
            throw new InvalidInputException("input '" + input + "' has shape " + Arrays.toString(given)
                    + "; the model expects " + dims(declared) + " (-1: any size of at least 1)");
        }
    }

    /** Refuses a sequence shorter than the model reads. */
    public static void sequence(String input, long[] given, int axis, int minLength) {
        if (axis < given.length && given[axis] < minLength) {
            throw new InvalidInputException("input '" + input + "' has shape " + Arrays.toString(given) + ": "
                    + given[axis] + " time steps on axis " + axis + ", the model reads at least " + minLength);
        }
    }

    /** A declared shape as the protocol writes it: -1 for an open dimension. */
    public static String dims(long[] shape) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < shape.length; i++) {
            sb.append(i > 0 ? ", " : "").append(shape[i] < 0 ? "-1" : Long.toString(shape[i]));
        }
        return sb.append(']').toString();
    }
}
