package org.lstmcast.forecast;

import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where ONNX Runtime's native libraries come from. Its Java binding copies its 24 MB library out of the jar into a
 * temporary folder at every start unless {@code onnxruntime.native.path} names a folder that holds them; the build
 * unpacks them beside the program ({@code target/native/}, the image's {@code /app/native/}), and this points the
 * binding there. Touches no ONNX Runtime class, so it can run before the binding loads.
 */
public final class OrtLibraries {
    /** The binding's own property. */
    static final String PROPERTY = "onnxruntime.native.path";

    private OrtLibraries() {
    }

    /**
     * Sets {@code onnxruntime.native.path} to {@code native/ai/onnxruntime/native/<platform>} beside the jar or class
     * folder {@code anchor} was loaded from, when that folder holds this platform's library and the property is not
     * already set; returns the folder chosen, or null when the binding keeps its own way.
     */
    public static Path preferUnpacked(Class<?> anchor) {
        if (System.getProperty(PROPERTY) != null) {
            return null;
        }
        Path dir = unpackedFor(anchor);
        if (dir != null) {
            System.setProperty(PROPERTY, dir.toString());
        }
        return dir;
    }

    private static Path unpackedFor(Class<?> anchor) {
        try {
            var source = anchor.getProtectionDomain().getCodeSource();
            return source == null ? null : unpackedBeside(Path.of(source.getLocation().toURI()), platform());
        } catch (URISyntaxException | RuntimeException e) {
            // An unusual class path (a URL that is not a file): the binding's own extraction still works.
            return null;
        }
    }

    /** The folder of {@code platform}'s libraries beside {@code program} (a jar or class folder), or null. */
    static Path unpackedBeside(Path program, String platform) {
        if (platform == null || program.getParent() == null) {
            return null;
        }
        Path dir = program.getParent().resolve("native/ai/onnxruntime/native").resolve(platform);
        return Files.isRegularFile(dir.resolve(System.mapLibraryName("onnxruntime")))
                && Files.isRegularFile(dir.resolve(System.mapLibraryName("onnxruntime4j_jni"))) ? dir : null;
    }

    /** The binding's name for this platform's folder ({@code linux-x64}, {@code osx-aarch64}, ...), or null. */
    static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String o = os.contains("linux") ? "linux" : os.contains("mac") || os.contains("darwin") ? "osx"
                : os.contains("win") ? "win" : null;
        String a = switch (arch) {
            case "amd64", "x86_64" -> "x64";
            case "aarch64", "arm64" -> "aarch64";
            default -> null;
        };
        return o == null || a == null ? null : o + "-" + a;
    }
}
