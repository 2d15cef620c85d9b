package org.lstmcast.train;

import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The forecasting network: stacked LSTMs, the last one read at its final step, and a linear head of H outputs. */
public final class Networks {
    private Networks() {
    }

    public static MultiLayerNetwork build(TrainConfig config, int features) {
        return build(config, features, LossFunctions.LossFunction.MSE);
    }

    /** The same network whose head fits {@code loss} (a global model fits the mean absolute error). */
    public static MultiLayerNetwork build(TrainConfig config, int features, LossFunctions.LossFunction loss) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
                .seed(config.seed())
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER)
                .updater(new Adam(config.learningRate()))
                // Clipping keeps a single volatile batch from throwing the recurrent weights off.
                .gradientNormalization(GradientNormalization.ClipL2PerLayer)
                .gradientNormalizationThreshold(1.0)
                .list();
        for (int k = 0; k < config.layers(); k++) {
            LSTM.Builder lstm = new LSTM.Builder()
                    .nIn(k == 0 ? features : config.hidden())
                    .nOut(config.hidden())
                    // DL4J's LSTM inherits SIGMOID from the network by default; the standard cell uses tanh.
                    .activation(Activation.TANH)
                    .gateActivationFunction(Activation.SIGMOID);
            if (k > 0 && config.dropout() > 0) {
                // DL4J's Dropout takes the probability of RETAINING an activation.
                lstm.dropOut(new Dropout(1 - config.dropout()));
            }
            list.layer(k == config.layers() - 1 ? new LastTimeStep(lstm.build()) : lstm.build());
        }
        OutputLayer.Builder head = new OutputLayer.Builder(loss)
                .nIn(config.hidden())
                .nOut(config.horizon())
                .activation(Activation.IDENTITY);
        if (config.dropout() > 0) {
            head.dropOut(new Dropout(1 - config.dropout()));
        }
        list.layer(head.build());
        MultiLayerNetwork net = new MultiLayerNetwork(list.build());
        net.init();
        return net;
    }
}
