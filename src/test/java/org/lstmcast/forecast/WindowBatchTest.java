package org.lstmcast.forecast;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

class WindowBatchTest {
    /** Window {@code w}, step {@code s}, feature {@code f} holds {@code 100w + 10s + f}. */
    private static float[][][] nested(int count, int steps, int features, int firstWindow) {
        float[][][] x = new float[count][steps][features];
        for (int w = 0; w < count; w++) {
            for (int s = 0; s < steps; s++) {
                for (int f = 0; f < features; f++) {
                    x[w][s][f] = 100 * (w + firstWindow) + 10 * s + f;
                }
            }
        }
        return x;
    }

    @Test
    void nestedWindowsBecomeOneRowMajorArray() {
        WindowBatch b = WindowBatch.of(nested(3, 4, 2, 0), 2);
        assertEquals(3, b.count());
        assertEquals(4, b.steps());
        assertEquals(2, b.features());
        for (int w = 0; w < 3; w++) {
            for (int s = 0; s < 4; s++) {
                for (int f = 0; f < 2; f++) {
                    assertEquals(100 * w + 10 * s + f, b.values()[(w * 4 + s) * 2 + f]);
                    assertEquals(100 * w + 10 * s + f, b.get(w, s, f));
                }
            }
        }
    }

    @Test
    void windowsOfUnequalLengthOrWidthAreRefused() {
        float[][][] ragged = {new float[3][1], new float[2][1]};
        assertThrows(InvalidInputException.class, () -> WindowBatch.of(ragged, 1));
        assertThrows(InvalidInputException.class, () -> WindowBatch.of(nested(2, 3, 2, 0), 1));
        assertThrows(IllegalArgumentException.class, () -> new WindowBatch(new float[5], 2, 3, 1));
        assertThrows(IllegalArgumentException.class, () -> new WindowBatch(new float[0], -1, 0, 1));
    }

    @Test
    void slicesAndConcatenationsKeepEveryWindowInOrder() {
        WindowBatch whole = WindowBatch.of(nested(5, 3, 2, 0), 2);
        WindowBatch a = whole.slice(0, 2);
        WindowBatch b = whole.slice(2, 5);
        assertEquals(2, a.count());
        assertEquals(3, b.count());
        assertEquals(200f, b.get(0, 0, 0));
        WindowBatch again = WindowBatch.concat(List.of(a, b));
        assertArrayEquals(whole.values(), again.values());
        assertEquals(5, again.count());
        assertSame(a, WindowBatch.concat(List.of(a)), "one part is used as it is, without a copy");
        WindowBatch other = WindowBatch.of(nested(1, 4, 2, 0), 2);
        assertThrows(IllegalArgumentException.class, () -> WindowBatch.concat(List.of(a, other)));
    }
}
