package org.lstmcast.model;

/** A source that cannot be converted, with the reason in words a user can act on. */
public final class ConversionException extends RuntimeException {
    private final boolean unreadable;

    public ConversionException(String message) {
        this(message, null, false);
    }

    public ConversionException(String message, Throwable cause) {
        this(message, cause, false);
    }

    private ConversionException(String message, Throwable cause, boolean unreadable) {
        super(message, cause);
        this.unreadable = unreadable;
    }

    /**
     * A file that cannot be read at all (truncated, damaged), as opposed to a readable model lstmcast cannot convert:
     * {@code inspect} describes the second and fails on the first.
     */
    public static ConversionException unreadable(String message, Throwable cause) {
        return new ConversionException(message, cause, true);
    }

    public boolean unreadable() {
        return unreadable;
    }
}
