package org.lstmcast.convert;

/** A source that cannot be converted, with the reason in words a user can act on. */
public final class ConversionException extends RuntimeException {
    public ConversionException(String message) {
        super(message);
    }

    public ConversionException(String message, Throwable cause) {
        super(message, cause);
    }
}
