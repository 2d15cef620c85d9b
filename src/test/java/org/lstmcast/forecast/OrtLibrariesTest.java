package org.lstmcast.forecast;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding ONNX Runtime's unpacked libraries beside the program (the binding's property is left alone here). */
class OrtLibrariesTest {
    @TempDir
    Path dir;

    @Test
    void findsThePlatformsFolderOnlyWhenBothLibrariesAreThere() throws Exception {
        Path jar = dir.resolve("lstmcast.jar");
        Path libs = Files.createDirectories(dir.resolve("native/ai/onnxruntime/native/linux-x64"));
        assertNull(OrtLibraries.unpackedBeside(jar, "linux-x64"), "empty folder");
        Files.writeString(libs.resolve(System.mapLibraryName("onnxruntime")), "x");
        assertNull(OrtLibraries.unpackedBeside(jar, "linux-x64"), "the JNI library missing");
        Files.writeString(libs.resolve(System.mapLibraryName("onnxruntime4j_jni")), "x");
        assertEquals(libs, OrtLibraries.unpackedBeside(jar, "linux-x64"));
        assertNull(OrtLibraries.unpackedBeside(jar, "linux-aarch64"), "another platform's folder");
        assertNull(OrtLibraries.unpackedBeside(jar, null), "a platform the binding has no name for");
    }

    @Test
    void namesThisPlatformAsTheBindingsJarDoes() throws Exception {
        String platform = OrtLibraries.platform();
        // The binding's jar on the test class path holds a folder of that name with this platform's library in it.
        String resource = "/ai/onnxruntime/native/" + platform + "/" + System.mapLibraryName("onnxruntime");
        try (var in = ai.onnxruntime.OrtEnvironment.class.getResourceAsStream(resource)) {
            assertEquals(true, in != null, resource);
        }
    }
}
