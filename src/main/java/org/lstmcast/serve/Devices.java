package org.lstmcast.serve;

/** Public checks on device names, for the command line. */
public final class Devices {
    private Devices() {
    }

    /** @throws IllegalArgumentException when {@code device} is not auto, cpu, cuda or cuda:ID */
    public static void check(String device) {
        Device.parse(device);
    }
}
