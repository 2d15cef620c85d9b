package org.lstmcast.serve;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/** The optional bearer key every endpoint but the health checks asks for. */
public final class ApiKey {
    private final byte[] expected;

    /** @param key the key, or null or empty for an open server */
    public ApiKey(String key) {
        this.expected = key == null || key.isEmpty() ? null : ("Bearer " + key).getBytes(StandardCharsets.UTF_8);
    }

    public boolean required() {
        return expected != null;
    }

    /** Throws a 401 unless the Authorization header carries the key. */
    public void check(String authorization) {
        // Constant-time: the comparison takes as long whatever prefix of the key a caller guessed.
        if (expected != null && (authorization == null
                || !MessageDigest.isEqual(expected, authorization.getBytes(StandardCharsets.UTF_8)))) {
            throw new ApiException(401, "missing or wrong API key (send Authorization: Bearer <key>)");
        }
    }
}
