package org.lstmcast.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.lstmcast.data.Split;
import org.lstmcast.data.Transform;
import org.lstmcast.data.Windows;

class TrainerTest {

    private static TrainConfig config(Transform transform, int epochs, long seed) {
        return new TrainConfig("value", List.of(), 24, 3, transform, 12, 1, 16, 0, epochs, 32, 0.01, 50, 0.1, 0.2, seed);
    }

    @Test
    void lstmBeatsTheNaiveForecastOnASeasonalSeries() {
        double[][] values = Series.seasonal(360, 1);
        Split split = Split.of(values.length, 0.1, 0.2);
        Trainer.Result result = Trainer.train(values, split, config(Transform.DIFF, 40, 3), TrainingListener.NONE);
        Evaluation ev = Evaluation.of(result.forecaster(), values, split, 12);

        double lstm = ev.model().rmse()[0];
        double naive = ev.baselines().get("naive").rmse()[0];
        // The season swings the series by ~2 per step; the naive forecast cannot follow it, a fitted LSTM must.
        assertTrue(lstm < 0.5 * naive, "LSTM RMSE " + lstm + " vs naive " + naive);
        assertTrue(ev.model().mase()[0] < 1, "MASE " + ev.model().mase()[0]);
        assertTrue(result.trainLoss()[result.epochsRun() - 1] < result.trainLoss()[0], "training loss fell");
        assertEquals(72, ev.testRows().length);
    }

    @Test
    void sameSeedSameDataSameModel() {
        double[][] values = Series.seasonal(240, 5);
        Split split = Split.of(values.length, 0.1, 0.2);
        Trainer.Result a = Trainer.train(values, split, config(Transform.RELATIVE, 4, 11), TrainingListener.NONE);
        Trainer.Result b = Trainer.train(values, split, config(Transform.RELATIVE, 4, 11), TrainingListener.NONE);
        assertArrayEquals(a.trainLoss(), b.trainLoss());
        assertArrayEquals(a.valLoss(), b.valLoss());
        Evaluation ea = Evaluation.of(a.forecaster(), values, split, 12);
        Evaluation eb = Evaluation.of(b.forecaster(), values, split, 12);
        assertArrayEquals(ea.model().rmse(), eb.model().rmse());
        assertArrayEquals(ea.model().mase(), eb.model().mase());

        Trainer.Result c = Trainer.train(values, split, config(Transform.RELATIVE, 4, 12), TrainingListener.NONE);
        assertTrue(c.trainLoss()[0] != a.trainLoss()[0], "another seed gives another model");
    }

    @Test
    void earlyStoppingRestoresTheBestEpoch() {
        double[][] values = Series.seasonal(240, 9);
        Split split = Split.of(values.length, 0.1, 0.2);
        // A learning rate this high makes validation loss bounce, so patience 2 stops well before 60 epochs.
        TrainConfig c = new TrainConfig("value", List.of(), 12, 2, Transform.LEVEL, 0, 1, 8, 0, 60, 16, 0.05, 2, 0.1, 0.2, 4);
        int[] calls = new int[1];
        Trainer.Result r = Trainer.train(values, split, c, new TrainingListener() {
            @Override
            public void epochEnded(int epoch, double trainLoss, double valLoss, boolean best) {
                calls[0]++;
            }
        });
        assertEquals(r.epochsRun(), calls[0]);
        assertTrue(r.epochsRun() - r.bestEpoch() <= 2);
        double bestVal = r.valLoss()[r.bestEpoch() - 1];
        for (double v : r.valLoss()) {
            assertTrue(bestVal <= v);
        }
        // The restored weights are the best epoch's: scoring validation again gives its loss.
        int[] valOrigins = Windows.origins(split.trainEnd(), split.valEnd(), 12, 2, true);
        double mse = 0;
        var pre = r.forecaster().preprocessor();
        List<double[][]> windows = new ArrayList<>();
        for (int o : valOrigins) {
            windows.add(Windows.window(values, o, 12));
        }
        float[][] out = r.forecaster().networkOutput(windows);
        for (int i = 0; i < valOrigins.length; i++) {
            float[] target = pre.target(windows.get(i), Windows.future(values, valOrigins[i], 2, 0));
            for (int h = 0; h < 2; h++) {
                mse += (out[i][h] - target[h]) * (out[i][h] - target[h]);
            }
        }
        mse /= valOrigins.length * 2;
        assertEquals(bestVal, mse, 1e-4 * Math.max(1, bestVal));
    }
}
