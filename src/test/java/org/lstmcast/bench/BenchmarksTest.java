package org.lstmcast.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** The JSON row of one load run: the percentiles in milliseconds, the tail's p99.9 and max included. */
class BenchmarksTest {
    @Test
    void rowCarriesTheTailInMilliseconds() {
        HttpLoad.Result r = new HttpLoad.Result(1, 2.0, 100, 0, 0, 200, 300, 900, 2500, 40000, List.of());
        Map<String, Object> row = Benchmarks.row(r, 1, null, null);
        assertEquals(List.of("concurrency", "windows_per_request", "requests_per_s", "forecasts_per_s", "p50_ms", "p90_ms",
                "p99_ms", "p999_ms", "max_ms", "requests", "non_2xx", "socket_errors"), List.copyOf(row.keySet()));
        assertEquals(0.2, row.get("p50_ms"));
        assertEquals(0.9, row.get("p99_ms"));
        assertEquals(2.5, row.get("p999_ms"));
        assertEquals(40.0, row.get("max_ms"));
    }
}
