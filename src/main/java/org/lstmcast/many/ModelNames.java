package org.lstmcast.many;

import java.util.regex.Pattern;

import org.apache.commons.codec.digest.DigestUtils;
import org.lstmcast.repository.ModelRepository;

/**
 * Series ids as model names. An id that is a valid name is kept; any other (spaces, slashes, accents, too long) is
 * mapped to its safe characters plus the first 8 hex digits of its SHA-256, so the same id always maps to the same
 * name, in train-many and predict-many alike, and two ids that differ only in unsafe characters stay apart.
 */
public final class ModelNames {
    private static final Pattern UNSAFE = Pattern.compile("[^A-Za-z0-9_.-]");
    private static final Pattern LEADING = Pattern.compile("^[^A-Za-z0-9]+");
    private static final Pattern DOTS = Pattern.compile("\\.{2,}");

    private ModelNames() {
    }

    public static String of(String id) {
        if (ModelRepository.validName(id)) {
            return id;
        }
        String safe = DOTS.matcher(LEADING.matcher(UNSAFE.matcher(id).replaceAll("_")).replaceFirst("")).replaceAll("_");
        if (safe.length() > 100) {
            safe = safe.substring(0, 100);
        }
        String suffix = DigestUtils.sha256Hex(id).substring(0, 8);
        return safe.isEmpty() ? "series-" + suffix : safe + "-" + suffix;
    }

    public static boolean mapped(String id) {
        return !of(id).equals(id);
    }
}
