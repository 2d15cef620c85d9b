import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client half of gpu-check.sh, a single-file program (java GpuCheck.java CPU_URL CUDA_URL): checks the provider,
 * compares forecasts, and times batches of 1, 64 and 512 windows on both servers. JDK classes only, so it runs
 * wherever the server does.
 */
public class GpuCheck {
    static final HttpClient HTTP = HttpClient.newHttpClient();

    public static void main(String[] args) throws Exception {
        String cpu = args[0];
        String cuda = args[1];
        String meta = get(cuda + "/v2/models/dax");
        if (!meta.contains("CUDAExecutionProvider")) {
            if (System.getenv("GPU_CHECK_DRY_RUN") == null) {
                System.out.println("FAIL: the CUDA server does not run dax on CUDA: " + meta);
                System.exit(1);
            }
            // A rehearsal of the client on a machine without a GPU: both servers on CPU.
            System.out.println("dry run: the second server runs on CPU, not CUDA");
        } else {
            System.out.println("provider on the CUDA server: CUDAExecutionProvider");
        }
        double worst = 0;
        System.out.printf(Locale.ROOT, "%-6s %-6s %12s %12s %14s%n", "batch", "device", "p50 ms", "p90 ms", "forecasts/s");
        for (int batch : new int[] {1, 64, 512}) {
            String body = body(batch, new Random(batch));
            double[] a = numbers(post(cpu + "/v1/models/dax/forecast", body));
            double[] b = numbers(post(cuda + "/v1/models/dax/forecast", body));
            for (int i = 0; i < a.length; i++) {
                worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1e-6, Math.abs(a[i])));
            }
            for (String[] server : new String[][] {{"cpu", cpu}, {"cuda", cuda}}) {
                int n = batch == 512 ? 40 : batch == 64 ? 150 : 500;
                for (int i = 0; i < n / 5; i++) {
                    post(server[1] + "/v1/models/dax/forecast", body);
                }
                double[] ms = new double[n];
                long start = System.nanoTime();
                for (int i = 0; i < n; i++) {
                    long t = System.nanoTime();
                    post(server[1] + "/v1/models/dax/forecast", body);
                    ms[i] = (System.nanoTime() - t) / 1e6;
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                Arrays.sort(ms);
                System.out.printf(Locale.ROOT, "%-6d %-6s %12.3f %12.3f %14.0f%n", batch, server[0], ms[n / 2],
                        ms[(int) (n * 0.9)], n * batch / seconds);
            }
        }
        System.out.printf(Locale.ROOT, "max relative difference CPU vs CUDA: %.3g (limit 1e-4)%n", worst);
        if (worst > 1e-4) {
            System.out.println("FAIL: CUDA forecasts differ from CPU forecasts");
            System.exit(1);
        }
        System.out.println("OK");
    }

    static String body(int batch, Random r) {
        StringBuilder sb = new StringBuilder("{\"inputs\": [");
        for (int b = 0; b < batch; b++) {
            sb.append(b > 0 ? "," : "").append('[');
            double level = 3000 + 2000 * r.nextDouble();
            for (int s = 0; s < 30; s++) {
                level *= 1 + 0.01 * r.nextGaussian();
                sb.append(s > 0 ? "," : "").append(String.format(Locale.ROOT, "%.2f", level));
            }
            sb.append(']');
        }
        return sb.append("]}").toString();
    }

    static double[] numbers(String json) {
        List<Double> out = new ArrayList<>();
        Matcher m = Pattern.compile("-?[0-9]+\\.?[0-9]*(?:[eE][-+]?[0-9]+)?").matcher(json.substring(json.indexOf("\"forecasts\"")));
        while (m.find()) {
            out.add(Double.parseDouble(m.group()));
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static String get(String url) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    static String post(String url, String body) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + " answered " + r.statusCode() + ": " + r.body());
        }
        return r.body();
    }
}
