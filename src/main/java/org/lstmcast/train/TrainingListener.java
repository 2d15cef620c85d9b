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

    /** Called before an ensemble's other members train, {@code atOnce} of them at a time, with no epoch events. */
    default void membersStarted(int members, int atOnce) {
    }

    /** Called on the calling thread as each of the other members is collected, {@code done} of {@code members}. */
    default void memberFinished(int done, int members) {
    }
}
