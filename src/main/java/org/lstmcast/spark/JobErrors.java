package org.lstmcast.spark;

import org.lstmcast.data.DataException;

/** Spark wraps what a task threw in its own exceptions; the user needs the first message that is ours. */
final class JobErrors {
    private JobErrors() {
    }

    /** The innermost message, or the exception's class where there is none. */
    static String message(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    /**
     * What a failed Spark job becomes for the user: our own data error where a task threw one, else one line naming
     * the job's failure (Spark's message carries the driver's stack trace after its first line).
     */
    static RuntimeException rethrow(RuntimeException e) {
        DataException ours = ours(e);
        if (ours != null) {
            return ours;
        }
        String text = String.valueOf(e.getMessage()).strip();
        int end = text.indexOf('\n');
        return new IllegalStateException("the Spark job failed: " + (end < 0 ? text : text.substring(0, end)), e);
    }

    /** Our own data error from inside a failed Spark job, or null when the job failed for another reason. */
    static DataException ours(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof DataException d) {
                return d;
            }
        }
        // A task's exception crosses to the driver as text: Spark's message holds the class name and ours.
        String text = String.valueOf(e.getMessage());
        String marker = DataException.class.getName() + ": ";
        int at = text.indexOf(marker);
        if (at >= 0) {
            String rest = text.substring(at + marker.length());
            int end = rest.indexOf('\n');
            return new DataException(end < 0 ? rest : rest.substring(0, end));
        }
        return null;
    }
}
