package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.function.BiConsumer;

import org.junit.jupiter.api.Test;

/** Raw little-endian contents (binary REST, gRPC raw_input_contents) of every numeric datatype, read as float32. */
class RawContentsTest {

    private static float[] read(String datatype, int size, int count, BiConsumer<ByteBuffer, Integer> put) {
        ByteBuffer b = ByteBuffer.allocate(size * count).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            put.accept(b, i);
        }
        b.flip();
        Inference.Values v = Inference.raw(datatype, b);
        assertEquals(count, v.count(), datatype);
        float[] out = new float[count];
        FloatBuffer fb = FloatBuffer.wrap(out);
        v.copyTo(fb);
        assertEquals(count, fb.position(), datatype + ": every element written");
        return out;
    }

    @Test
    void everyDatatypeReadsAsTheValuesWritten() {
        float[] fp32 = {1.5f, -2.25f, 3e30f, Float.MIN_VALUE};
        assertArrayEquals(fp32, read("FP32", 4, 4, (b, i) -> b.putFloat(fp32[i])));
        double[] fp64 = {0.1, -1e300, 12345.678};
        assertArrayEquals(new float[] {0.1f, Float.NEGATIVE_INFINITY, 12345.678f}, read("fp64", 8, 3, (b, i) -> b.putDouble(fp64[i])));
        // binary16 bit patterns and their values from the IEEE 754 tables
        short[] half = {0x3C00, (short) 0xC000, 0x7BFF, 0x0001, 0x7C00, (short) 0x8000};
        assertArrayEquals(new float[] {1f, -2f, 65504f, 0x1p-24f, Float.POSITIVE_INFINITY, -0f},
                read("FP16", 2, 6, (b, i) -> b.putShort(half[i])));
        assertArrayEquals(new float[] {-128f, 127f}, read("INT8", 1, 2, (b, i) -> b.put(i == 0 ? (byte) -128 : 127)));
        assertArrayEquals(new float[] {255f, 1f}, read("UINT8", 1, 2, (b, i) -> b.put(i == 0 ? (byte) -1 : 1)));
        assertArrayEquals(new float[] {-32768f, 65535f}, new float[] {read("INT16", 2, 1, (b, i) -> b.putShort((short) -32768))[0],
                read("UINT16", 2, 1, (b, i) -> b.putShort((short) -1))[0]});
        assertArrayEquals(new float[] {-7f, 4294967295f}, new float[] {read("INT32", 4, 1, (b, i) -> b.putInt(-7))[0],
                read("UINT32", 4, 1, (b, i) -> b.putInt(-1))[0]});
        assertArrayEquals(new float[] {-9e18f, 18446744073709551615f}, new float[] {read("INT64", 8, 1, (b, i) -> b.putLong(-9_000_000_000_000_000_000L))[0],
                read("UINT64", 8, 1, (b, i) -> b.putLong(-1L))[0]});
    }

    @Test
    void aLengthThatIsNotWholeElementsOrAnUnknownDatatypeCountsAsNoValues() {
        assertEquals(-1, Inference.raw("FP32", ByteBuffer.allocate(7)).count());
        assertEquals(-1, Inference.raw("BYTES", ByteBuffer.allocate(8)).count());
        assertEquals(-1, Inference.raw(null, ByteBuffer.allocate(8)).count());
    }

    @Test
    void theBufferItReadsFromIsLeftWhereItWas() {
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(1f).putFloat(2f);
        b.flip();
        Inference.Values v = Inference.raw("FP32", b);
        float[] first = new float[2];
        v.copyTo(FloatBuffer.wrap(first));
        float[] second = new float[2];
        v.copyTo(FloatBuffer.wrap(second));
        assertArrayEquals(first, second);
        assertEquals(0, b.position());
    }
}
