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

    /**
     * Called before further networks train, {@code atOnce} of them at a time, with no epoch events: an ensemble's
     * other members ({@code refit} false) or the kept model's networks trained again on the training and validation
     * rows ({@code refit} true).
     */
    default void membersStarted(int members, int atOnce, boolean refit) {
    }

    /** Called on the calling thread as each of those networks is collected, {@code done} of {@code members}. */
    default void memberFinished(int done, int members) {
    }
}
