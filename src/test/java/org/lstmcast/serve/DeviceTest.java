package org.lstmcast.serve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

/** What {@code --device auto} says when it ends up on CPU, with and without an NVIDIA driver on the machine. */
class DeviceTest {
    private static final String REASON = "Error code - ORT_EP_FAIL - message: Failed to find CUDA shared provider\n"
            + "second line of detail";

    @Test
    void withADriverTheFallbackIsAWarningWithOnnxRuntimesReason() {
        Device.Fallback f = Device.fallback(true, REASON);
        assertEquals(Level.WARN, f.level());
        assertTrue(f.message().contains("Failed to find CUDA shared provider"), f.message());
        assertTrue(f.message().endsWith("serving on CPU"), f.message());
        assertFalse(f.message().contains("second line"), "one line: " + f.message());
    }

    @Test
    void withoutADriverTheFallbackIsOneInfoLineWithoutTheProviderNoise() {
        Device.Fallback f = Device.fallback(false, REASON);
        assertEquals(Level.INFO, f.level());
        assertTrue(f.message().contains("no GPU driver: serving on CPU"), f.message());
        assertFalse(f.message().contains("ORT_EP_FAIL"), f.message());
    }

    @Test
    void aMissingReasonStillGivesOneLine() {
        Device.Fallback f = Device.fallback(true, null);
        assertEquals(Level.WARN, f.level());
        assertEquals(1, f.message().lines().count(), f.message());
    }
}
