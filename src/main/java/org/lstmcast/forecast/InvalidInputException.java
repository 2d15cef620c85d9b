package org.lstmcast.forecast;

/**
 * The caller's input does not fit the model: a window too short, a shape the model does not take, a horizon out of
 * range. The caller can fix it; servers answer it with a 4xx. Anything else thrown while forecasting is a fault of
 * the program or the model, not of the request.
 */
public class InvalidInputException extends RuntimeException {
    public InvalidInputException(String message) {
        super(message);
    }
}
