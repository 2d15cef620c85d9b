package org.lstmcast.data;

/** Input data that cannot be used as given; the message names the file, line and column where it can. */
public class DataException extends RuntimeException {
    public DataException(String message) {
        super(message);
    }

    public DataException(String message, Throwable cause) {
        super(message, cause);
    }
}
