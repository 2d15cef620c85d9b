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

    /** The networks trained after a candidate was chosen, which report no epochs. */
    enum Stage {
        /** An ensemble's other members, on the training rows. */
        ENSEMBLE,
        /** The kept model's networks again, on the training and validation rows, for the model the test part scores. */
        REFIT,
        /** The kept model's networks once more, on every row, for the model written and exported. */
        FINAL
    }

    /**
     * Called before a candidate of transform auto trains, with its name ("diff", "seasonal-mean"); its epochs follow.
     */
    default void candidate(String name) {
    }

    /** Called before further networks train, {@code atOnce} of them at a time, with no epoch events. */
    default void membersStarted(int members, int atOnce, Stage stage) {
    }

    /** Called on the calling thread as each of those networks is collected, {@code done} of {@code members}. */
    default void memberFinished(int done, int members) {
    }
}
