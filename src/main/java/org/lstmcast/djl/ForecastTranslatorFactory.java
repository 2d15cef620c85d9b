package org.lstmcast.djl;

import java.lang.reflect.Type;
import java.util.Map;
import java.util.Set;

import ai.djl.Model;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorFactory;
import ai.djl.util.Pair;

/**
 * Lets DJL's {@code Criteria} build a forecasting {@code Predictor} for an lstmcast export:
 * <pre>{@code
 * Criteria<double[][], double[]> criteria = Criteria.builder()
 *         .setTypes(double[][].class, double[].class)
 *         .optModelPath(Path.of("models/dax/1"))
 *         .optEngine("OnnxRuntime")
 *         .optTranslatorFactory(new ForecastTranslatorFactory())
 *         .build();
 * }</pre>
 * With {@code setTypes(double[][].class, IntervalForecastTranslator.Forecast.class)} the predictor also answers the
 * model's calibrated prediction intervals.
 */
public final class ForecastTranslatorFactory implements TranslatorFactory {

    @Override
    public Set<Pair<Type, Type>> getSupportedTypes() {
        return Set.of(new Pair<>(double[][].class, double[].class),
                new Pair<>(double[][].class, IntervalForecastTranslator.Forecast.class));
    }

    @Override
    @SuppressWarnings("unchecked")
    public <I, O> Translator<I, O> newInstance(Class<I> input, Class<O> output, Model model, Map<String, ?> arguments) {
        if (input == double[][].class && output == double[].class) {
            return (Translator<I, O>) new ForecastTranslator();
        }
        if (input == double[][].class && output == IntervalForecastTranslator.Forecast.class) {
            return (Translator<I, O>) new IntervalForecastTranslator();
        }
        throw new IllegalArgumentException("lstmcast forecasts map double[][] windows to double[] forecasts, or to "
                + "IntervalForecastTranslator.Forecast with intervals, not " + input.getSimpleName() + " to "
                + output.getSimpleName());
    }
}
