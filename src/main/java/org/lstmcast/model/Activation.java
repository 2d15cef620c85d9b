package org.lstmcast.model;

import java.util.List;
import java.util.Locale;

/**
 * The activation functions a converted layer may use, each with its exact formula (for the reference pass) and
 * its ONNX spelling (for the graph). Keras's {@code hard_sigmoid} changed meaning in Keras 3, hence two entries.
 */
public enum Activation {
    LINEAR("Affine", 1.0, 0.0),
    TANH("Tanh", Double.NaN, Double.NaN),
    SIGMOID("Sigmoid", Double.NaN, Double.NaN),
    /** Keras 1 and 2: {@code clip(0.2 x + 0.5, 0, 1)}. */
    HARD_SIGMOID("HardSigmoid", 0.2, 0.5),
    /** Keras 3: {@code relu6(x + 3) / 6}, that is {@code clip(x / 6 + 0.5, 0, 1)}. */
    HARD_SIGMOID_K3("HardSigmoid", 1.0 / 6.0, 0.5),
    RELU("Relu", Double.NaN, Double.NaN),
    ELU("Elu", 1.0, Double.NaN),
    SOFTSIGN("Softsign", Double.NaN, Double.NaN),
    SOFTPLUS("Softplus", Double.NaN, Double.NaN),
    /** Only after a Dense layer or as a layer: recurrent ops cannot express it. */
    SOFTMAX(null, Double.NaN, Double.NaN),
    SELU(null, Double.NaN, Double.NaN),
    EXPONENTIAL(null, Double.NaN, Double.NaN),
    SWISH(null, Double.NaN, Double.NaN);

    private static final double SELU_ALPHA = 1.6732632423543772848170429916717;
    private static final double SELU_SCALE = 1.0507009873554804934193349852946;

    /** The name in ONNX's recurrent-op {@code activations} attribute, or null when a recurrent op cannot use it. */
    public final String recurrentName;
    public final double alpha;
    public final double beta;

    Activation(String recurrentName, double alpha, double beta) {
        this.recurrentName = recurrentName;
        this.alpha = alpha;
        this.beta = beta;
    }

    /** A Keras activation name (or a Keras 3 serialised dict's name), read as the given Keras major version means it. */
    public static Activation keras(String name, int kerasMajor) {
        String n = name == null ? "linear" : name.toLowerCase(Locale.ROOT);
        return switch (n) {
            case "linear", "identity" -> LINEAR;
            case "tanh" -> TANH;
            case "sigmoid" -> SIGMOID;
            case "hard_sigmoid" -> kerasMajor >= 3 ? HARD_SIGMOID_K3 : HARD_SIGMOID;
            case "relu" -> RELU;
            case "elu" -> ELU;
            case "softsign" -> SOFTSIGN;
            case "softplus" -> SOFTPLUS;
            case "softmax" -> SOFTMAX;
            case "selu" -> SELU;
            case "exponential" -> EXPONENTIAL;
            case "swish", "silu" -> SWISH;
            default -> throw new ConversionException("activation '" + name + "' has no ONNX equivalent here; supported: "
                    + "linear, tanh, sigmoid, hard_sigmoid, relu, elu, softsign, softplus, softmax, selu, exponential, swish");
        };
    }

    boolean recurrentCapable() {
        return recurrentName != null;
    }

    /** ONNX recurrent ops consume alpha and beta lists in order, only for the functions that take them. */
    public static void recurrentParameters(List<Activation> functions, List<Float> alphas, List<Float> betas) {
        for (Activation a : functions) {
            if (!Double.isNaN(a.alpha)) {
                alphas.add((float) a.alpha);
            }
            if (!Double.isNaN(a.beta)) {
                betas.add((float) a.beta);
            }
        }
    }

    public double apply(double x) {
        return switch (this) {
            case LINEAR -> x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1.0 / (1.0 + Math.exp(-x));
            case HARD_SIGMOID, HARD_SIGMOID_K3 -> Math.max(0.0, Math.min(1.0, alpha * x + beta));
            case RELU -> Math.max(0.0, x);
            case ELU -> x > 0 ? x : Math.exp(x) - 1.0;
            case SOFTSIGN -> x / (1.0 + Math.abs(x));
            case SOFTPLUS -> Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0.0);
            case SELU -> SELU_SCALE * (x > 0 ? x : SELU_ALPHA * (Math.exp(x) - 1.0));
            case EXPONENTIAL -> Math.exp(x);
            case SWISH -> x / (1.0 + Math.exp(-x));
            case SOFTMAX -> throw new IllegalStateException("softmax works on a vector");
        };
    }

    /** Applies in place to the last axis of a row; softmax needs the whole row. */
    void applyRow(double[] row) {
        if (this == SOFTMAX) {
            double max = Double.NEGATIVE_INFINITY;
            for (double v : row) {
                max = Math.max(max, v);
            }
            double sum = 0;
            for (int i = 0; i < row.length; i++) {
                row[i] = Math.exp(row[i] - max);
                sum += row[i];
            }
            for (int i = 0; i < row.length; i++) {
                row[i] /= sum;
            }
            return;
        }
        for (int i = 0; i < row.length; i++) {
            row[i] = apply(row[i]);
        }
    }
}
