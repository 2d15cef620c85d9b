package org.lstmcast.model;

import java.util.List;

/**
 * A converted source as a chain of layers over an input {@code [batch, steps, features]}.
 *
 * @param steps  fixed time steps, or -1 when the source leaves them open
 * @param origin where it came from, for the model's metadata: format and version
 */
public record Network(int steps, int features, List<Layer> layers, String origin) {
    public Network {
        layers = List.copyOf(layers);
        if (features < 1) {
            throw new ConversionException("the input has no feature axis: the source's input must be [batch, time, features]");
        }
    }

    public Network withSteps(int newSteps) {
        return new Network(newSteps, features, layers, origin);
    }
}
