package org.lstmcast.model;

import java.util.Arrays;

/**
 * One layer of a sequential network, framework-neutral. Weights follow Keras's conventions whatever the source:
 * kernels are {@code [in][gates * units]} with gate blocks in Keras order (LSTM i, f, c, o; GRU z, r, h), so the
 * reference pass reads like Keras's own formulas and only the ONNX writer knows ONNX's gate order.
 *
 * <p>Shapes flow as {@code [batch, time, features]} or {@code [batch, features]}.
 */
public sealed interface Layer {

    /** A short description for reports: the class and its sizes. */
    String describe();

    enum Cell {
        LSTM(4), GRU(3), RNN(1);

        public final int gates;

        Cell(int gates) {
            this.gates = gates;
        }
    }

    /**
     * @param recurrentBias only GRU with reset-after keeps a separate recurrent bias; otherwise zeros
     * @param resetAfter    GRU: reset gate applied after the recurrent matmul (Keras {@code reset_after=True},
     *                      ONNX {@code linear_before_reset=1})
     */
    record Recurrent(Cell cell, int units, int inputSize, Activation activation, Activation recurrentActivation,
                     float[][] kernel, float[][] recurrentKernel, float[] bias, float[] recurrentBias,
                     boolean resetAfter, boolean returnSequences, boolean goBackwards) implements Layer {
        public Recurrent {
            int width = cell.gates * units;
            check(kernel.length == inputSize && kernel[0].length == width, "kernel", cell);
            check(recurrentKernel.length == units && recurrentKernel[0].length == width, "recurrent kernel", cell);
            check(bias.length == width && recurrentBias.length == width, "bias", cell);
            if (!activation.recurrentCapable() || !recurrentActivation.recurrentCapable()) {
                throw new ConversionException(cell + " activations " + activation.name().toLowerCase()
                        + "/" + recurrentActivation.name().toLowerCase() + " cannot be expressed by ONNX's " + cell);
            }
        }

        @Override
        public String describe() {
            return cell + "(" + units + (returnSequences ? ", sequences" : "") + (goBackwards ? ", backwards" : "") + ")";
        }

        public Recurrent withDirection(boolean backwards, boolean sequences) {
            return new Recurrent(cell, units, inputSize, activation, recurrentActivation, kernel, recurrentKernel, bias,
                    recurrentBias, resetAfter, sequences, backwards);
        }
    }

    enum Merge { CONCAT, SUM, MUL, AVE }

    record Bidirectional(Recurrent forward, Recurrent backward, Merge merge) implements Layer {
        public Bidirectional {
            if (forward.cell() != backward.cell() || forward.units() != backward.units()
                    || forward.returnSequences() != backward.returnSequences()) {
                throw new ConversionException("Bidirectional: forward and backward layers differ in kind, size or "
                        + "return_sequences; ONNX's bidirectional ops need them alike");
            }
            if (forward.activation() != backward.activation()
                    || forward.recurrentActivation() != backward.recurrentActivation()) {
                throw new ConversionException("Bidirectional: forward and backward activations differ");
            }
        }

        @Override
        public String describe() {
            return "Bidirectional(" + forward.describe() + ", " + merge.name().toLowerCase() + ")";
        }
    }

    /** Applied to the last axis, on 2-D and 3-D input alike (as Keras's Dense and TimeDistributed(Dense) do). */
    record Dense(float[][] kernel, float[] bias, Activation activation) implements Layer {
        @Override
        public String describe() {
            return "Dense(" + kernel[0].length + (activation == Activation.LINEAR ? "" : ", " + activation.name().toLowerCase()) + ")";
        }
    }

    record Act(Activation activation) implements Layer {
        @Override
        public String describe() {
            return "Activation(" + activation.name().toLowerCase() + ")";
        }
    }

    record Flatten() implements Layer {
        @Override
        public String describe() {
            return "Flatten";
        }
    }

    /** Target shape without the batch axis; one entry may be -1. */
    record Reshape(int[] target) implements Layer {
        @Override
        public String describe() {
            return "Reshape" + Arrays.toString(target);
        }
    }

    record RepeatVector(int times) implements Layer {
        @Override
        public String describe() {
            return "RepeatVector(" + times + ")";
        }
    }

    /** Time steps whose features all equal {@code value} are skipped by the recurrent layer that follows. */
    record Masking(double value) implements Layer {
        @Override
        public String describe() {
            return "Masking(" + value + ")";
        }
    }

    private static void check(boolean ok, String what, Cell cell) {
        if (!ok) {
            throw new ConversionException(cell + ": " + what + " has the wrong shape for its units and input size");
        }
    }
}
