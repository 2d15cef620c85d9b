package org.lstmcast.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The console's address as the serve banner prints it: one a browser on this machine can open. */
class ServeBannerTest {
    @Test
    void wildcardAddressesBecomeLoopbackAndIpv6LiteralsGetBrackets() {
        assertEquals("http://127.0.0.1:8080/", ServeCommand.consoleUrl("127.0.0.1", 8080));
        assertEquals("http://127.0.0.1:9000/", ServeCommand.consoleUrl("0.0.0.0", 9000));
        assertEquals("http://[::1]:9000/", ServeCommand.consoleUrl("::", 9000));
        assertEquals("http://[fe80::1]:81/", ServeCommand.consoleUrl("fe80::1", 81));
        assertEquals("http://forecast.local:8080/", ServeCommand.consoleUrl("forecast.local", 8080));
    }
}
