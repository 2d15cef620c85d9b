package org.lstmcast.train;

/** Hears about the progress of training, one epoch at a time. */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {
    };

    /** Called once before the first epoch. */
    default void started(int maxEpochs) {
    }

    /** Called after every epoch; {@code best} says whether this epoch is the best so far on validation loss. */
    default void epochEnded(int epoch, double trainLoss, double valLoss, boolean best) {
    }

    /** Called once training stops, early or not. */
    default void finished(int epochsRun, int bestEpoch) {
    }
}
