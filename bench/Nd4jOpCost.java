import java.util.Locale;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * What one LSTM time step costs when written with ND4J's own ops from Java: K members' cells (batch 32, 32 units)
 * stepped as batched products, ten ops a step (the recurrent product, the input's share, tanh and sigmoid on the gate
 * blocks, the cell and output updates), 3,000 steps, 3 times. This is the forward step only; a backward step needs
 * about twice the ops.
 *
 *   OMP_NUM_THREADS=1 java -cp 'target/lstmcast.jar:target/lib/*' bench/Nd4jOpCost.java [K]
 */
public class Nd4jOpCost {
    public static void main(String[] args) {
        Nd4j.getEnvironment().setMaxThreads(1);
        Nd4j.factory().blas().setMaxThreads(1);
        int k = args.length > 0 ? Integer.parseInt(args[0]) : 1;
        int batch = 32;
        int hidden = 32;
        INDArray h = Nd4j.rand(DataType.FLOAT, k, batch, hidden);
        INDArray recurrent = Nd4j.rand(DataType.FLOAT, k, hidden, 4 * hidden);
        INDArray z = Nd4j.create(DataType.FLOAT, k, batch, 4 * hidden);
        INDArray c = Nd4j.rand(DataType.FLOAT, k, batch, hidden);
        INDArray inputShare = Nd4j.rand(DataType.FLOAT, k, batch, 30, 4 * hidden);
        for (int rep = 0; rep < 3; rep++) {
            int n = 3000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                Nd4j.matmul(h, recurrent, z, false, false, false);
                z.addi(inputShare.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(i % 30),
                        NDArrayIndex.all()));
                INDArray g = z.get(gates(0, hidden));
                Transforms.tanh(g, false);
                Transforms.sigmoid(z.get(gates(1, 3 * hidden)), false);
                INDArray f = z.get(gates(1, hidden));
                INDArray o = z.get(gates(2, hidden));
                INDArray in = z.get(gates(3, hidden));
                c = c.mul(f).addi(in.mul(g));
                h = o.mul(Transforms.tanh(c, true));
            }
            double us = (System.nanoTime() - t0) / 1e3 / n;
            System.out.printf(Locale.ROOT, "K=%d: %.1f us a step of 10 ops, %.1f us an op%n", k, us, us / 10);
        }
    }

    /** The gate columns from block {@code block} on, {@code width} wide, of a {@code [K, batch, 4H]} array. */
    private static INDArrayIndex[] gates(int block, int width) {
        long from = (long) block * 32;
        return new INDArrayIndex[] {NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.interval(from, from + width)};
    }
}
