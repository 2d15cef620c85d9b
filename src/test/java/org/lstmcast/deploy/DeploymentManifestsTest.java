package org.lstmcast.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

/**
 * No cluster exists here, so the manifests are checked by reading them: the fields Kubernetes and KServe require,
 * and that they agree with each other, with the images and with the server (ports, probes, user, variables).
 */
class DeploymentManifestsTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Path DOCKER = Path.of("docker");
    private static final Set<String> ROUTES = Set.of("/v2/health/ready", "/v2/health/live", "/metrics");

    static JsonNode read(String file) throws IOException {
        return YAML.readTree(DOCKER.resolve(file).toFile());
    }

    /** The variables the entrypoint turns into flags, plus those the program reads itself. */
    static Set<String> knownVariables() throws IOException {
        Set<String> vars = new HashSet<>(Set.of("LSTMCAST_API_KEY", "JAVA_OPTS", "OMP_NUM_THREADS"));
        Matcher m = Pattern.compile("\\$\\{(LSTMCAST_[A-Z_]+)").matcher(Files.readString(DOCKER.resolve("entrypoint.sh")));
        while (m.find()) {
            vars.add(m.group(1));
        }
        return vars;
    }

    static void assertContainer(JsonNode c, String where) throws IOException {
        assertFalse(c.path("name").asText().isEmpty(), where + ": container name");
        assertFalse(c.path("image").asText().isEmpty(), where + ": image");
        int port = -1;
        Set<String> known = knownVariables();
        for (JsonNode env : c.path("env")) {
            assertTrue(known.contains(env.path("name").asText()), where + ": " + env.path("name").asText() + " is read by nobody");
            if (env.path("name").asText().equals("LSTMCAST_PORT")) {
                port = Integer.parseInt(env.path("value").asText());
            }
        }
        assertEquals(8080, port, where + ": LSTMCAST_PORT");
        assertEquals(port, c.path("ports").get(0).path("containerPort").asInt(), where + ": the container port is the server's");
        for (String probe : List.of("readinessProbe", "livenessProbe")) {
            JsonNode get = c.path(probe).path("httpGet");
            assertTrue(ROUTES.contains(get.path("path").asText()), where + ": " + probe + " path " + get.path("path"));
        }
        assertEquals("/v2/health/ready", c.path("readinessProbe").path("httpGet").path("path").asText());
        for (String kind : List.of("requests", "limits")) {
            assertFalse(c.path("resources").path(kind).path("cpu").isMissingNode(), where + ": " + kind + ".cpu");
            assertFalse(c.path("resources").path(kind).path("memory").isMissingNode(), where + ": " + kind + ".memory");
        }
    }

    @Test
    void kserveServingRuntimeSpeaksV2AndServesOnnx() throws IOException {
        JsonNode rt = read("kserve/servingruntime.yaml");
        assertEquals("serving.kserve.io/v1alpha1", rt.path("apiVersion").asText());
        assertEquals("ServingRuntime", rt.path("kind").asText());
        assertEquals("lstmcast", rt.path("metadata").path("name").asText());
        assertTrue(rt.path("spec").path("protocolVersions").toString().contains("\"v2\""));
        JsonNode format = rt.path("spec").path("supportedModelFormats").get(0);
        assertEquals("onnx", format.path("name").asText());
        assertTrue(format.path("autoSelect").asBoolean());
        JsonNode c = rt.path("spec").path("containers").get(0);
        // KServe wires its storage initializer and agent to the container of this name.
        assertEquals("kserve-container", c.path("name").asText());
        assertContainer(c, "ServingRuntime");
        boolean modelsAtMount = false;
        for (JsonNode env : c.path("env")) {
            modelsAtMount |= env.path("name").asText().equals("LSTMCAST_MODELS") && env.path("value").asText().equals("/mnt/models");
        }
        assertTrue(modelsAtMount, "the runtime reads the repository where KServe's storage initializer puts it");
        assertEquals(c.path("ports").get(0).path("containerPort").asText(),
                rt.path("spec").path("annotations").path("prometheus.kserve.io/port").asText());
    }

    @Test
    void inferenceServiceUsesTheRuntime() throws IOException {
        JsonNode rt = read("kserve/servingruntime.yaml");
        JsonNode isvc = read("kserve/inferenceservice.yaml");
        assertEquals("serving.kserve.io/v1beta1", isvc.path("apiVersion").asText());
        assertEquals("InferenceService", isvc.path("kind").asText());
        assertTrue(isvc.path("metadata").path("name").asText().matches("[a-z]([-a-z0-9]*[a-z0-9])?"), "a DNS-1035 name");
        JsonNode model = isvc.path("spec").path("predictor").path("model");
        assertEquals(rt.path("metadata").path("name").asText(), model.path("runtime").asText());
        assertEquals("onnx", model.path("modelFormat").path("name").asText());
        assertEquals("v2", model.path("protocolVersion").asText());
        assertTrue(model.path("storageUri").asText().matches("(s3|gs|https?|pvc)://.+"), model.path("storageUri").asText());
    }

    @Test
    void deploymentServiceAndAutoscalerFitTogether() throws IOException {
        JsonNode d = read("k8s/deployment.yaml");
        JsonNode svc = read("k8s/service.yaml");
        JsonNode hpa = read("k8s/hpa.yaml");
        assertEquals("apps/v1", d.path("apiVersion").asText());
        assertEquals("Deployment", d.path("kind").asText());
        JsonNode labels = d.path("spec").path("template").path("metadata").path("labels");
        d.path("spec").path("selector").path("matchLabels").fields().forEachRemaining(
                e -> assertEquals(e.getValue(), labels.path(e.getKey()), "the selector matches the pod labels"));
        JsonNode pod = d.path("spec").path("template").path("spec");
        JsonNode c = pod.path("containers").get(0);
        assertContainer(c, "Deployment");
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean());
        assertTrue(Files.readString(DOCKER.resolve("Dockerfile")).contains("USER " + pod.path("securityContext").path("runAsUser").asText()),
                "the pod runs as the image's user");
        if (c.path("securityContext").path("readOnlyRootFilesystem").asBoolean()) {
            assertTrue(c.path("volumeMounts").toString().contains("\"/tmp\""),
                    "ONNX Runtime unpacks its native library into /tmp: a read-only root needs a writable /tmp");
        }
        assertTrue(pod.path("terminationGracePeriodSeconds").asInt() >= 30, "time to drain in-flight requests");

        assertEquals("v1", svc.path("apiVersion").asText());
        assertEquals("Service", svc.path("kind").asText());
        svc.path("spec").path("selector").fields().forEachRemaining(
                e -> assertEquals(e.getValue(), labels.path(e.getKey()), "the service selects the pods"));
        String target = svc.path("spec").path("ports").get(0).path("targetPort").asText();
        assertEquals(target, c.path("ports").get(0).path("name").asText(), "the service targets the container's port");

        assertEquals("autoscaling/v2", hpa.path("apiVersion").asText());
        assertEquals("HorizontalPodAutoscaler", hpa.path("kind").asText());
        assertEquals("Deployment", hpa.path("spec").path("scaleTargetRef").path("kind").asText());
        assertEquals(d.path("metadata").path("name").asText(), hpa.path("spec").path("scaleTargetRef").path("name").asText());
        assertTrue(hpa.path("spec").path("minReplicas").asInt() <= hpa.path("spec").path("maxReplicas").asInt());
        assertEquals("cpu", hpa.path("spec").path("metrics").get(0).path("resource").path("name").asText());
    }

    @Test
    void imagesRunTheEntrypointAsAnUnprivilegedUserWithAHealthCheck() throws IOException {
        for (String file : List.of("Dockerfile", "Dockerfile.gpu")) {
            String text = Files.readString(DOCKER.resolve(file));
            assertTrue(text.contains("USER 10001"), file);
            assertTrue(text.contains("HEALTHCHECK") && text.contains("/v2/health/ready"), file);
            assertTrue(text.contains("ENTRYPOINT [\"/app/entrypoint.sh\"]"), file);
            assertTrue(text.contains("VOLUME [\"/models\"]"), file);
            assertTrue(text.contains("MaxRAMPercentage"), file + ": JVM sized by the container's memory limit");
            assertTrue(text.lines().filter(l -> l.startsWith("FROM ")).count() >= 2, file + ": multi-stage");
        }
        assertTrue(Files.readString(DOCKER.resolve("Dockerfile.gpu")).contains("-Pgpu"));
        assertTrue(Files.isExecutable(DOCKER.resolve("entrypoint.sh")));
    }
}
