package org.lstmcast.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.util.Arrays;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.lstmcast.grpc.proto.ModelInferRequest;

/** The prepared bodies a replaying load generator sends: one gRPC frame of the load's own call, and its JSON twin. */
class H2loadBodiesTest {
    @Test
    void grpcBodyIsOneUncompressedFrameOfTheLoadsRequest() throws Exception {
        byte[] framed = H2loadBodies.grpcFramed("dax", "input", 3, 30);
        ByteBuffer b = ByteBuffer.wrap(framed);
        assertEquals(0, b.get());
        int length = b.getInt();
        assertEquals(framed.length - 5, length);
        ModelInferRequest parsed = ModelInferRequest.parseFrom(Arrays.copyOfRange(framed, 5, framed.length));
        assertEquals(GrpcLoad.request("dax", "input", 3, 30), parsed);
    }

    @Test
    void jsonBodyCarriesTheSameWindowsFlat() throws Exception {
        JsonNode input = new ObjectMapper().readTree(H2loadBodies.inferJson("input", 3, 30)).get("inputs").get(0);
        assertEquals("input", input.get("name").asText());
        assertEquals("[3,30,1]", input.get("shape").toString());
        double[][] levels = Benchmarks.levels(3, 30);
        assertEquals(90, input.get("data").size());
        assertEquals(levels[2][29], input.get("data").get(89).asDouble(), 1e-9);
        assertEquals(levels[1][0], input.get("data").get(30).asDouble(), 1e-9);
    }
}
