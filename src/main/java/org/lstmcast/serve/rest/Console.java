package org.lstmcast.serve.rest;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import org.lstmcast.serve.ApiException;

/**
 * The browser pages: thin shells whose scripts call the public API, and nothing else, with every file read from the
 * class path (the jar and the webjars beside it). A small handler rather than Javalin's static files, so that the
 * pages share the API's routing, its JSON 404s and its one API-key hook, and {@code --no-console} removes them whole.
 */
final class Console {
    /** What a page may load: only this server's own files (the server runs air-gapped; nothing from a CDN). */
    private static final String POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
            + "script-src 'self'; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'";
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");
    private static final Map<String, String> TYPES = Map.of("html", "text/html; charset=utf-8",
            "js", "text/javascript; charset=utf-8", "mjs", "text/javascript; charset=utf-8", "css", "text/css; charset=utf-8",
            "json", "application/json", "map", "application/json", "png", "image/png", "svg", "image/svg+xml");
    private static final Map<String, String> WEBJAR_VERSIONS = new ConcurrentHashMap<>();

    private Console() {
    }

    /** Whether a path is a page or one of its files, which need no API key: they hold no data, the API calls do. */
    static boolean open(String path) {
        return path.equals("/") || path.equals("/docs") || path.equals("/openapi.json") || path.startsWith("/models/")
                || path.startsWith("/console/") || path.startsWith("/webjars/");
    }

    static void register(RoutesConfig r) {
        r.get("/", ctx -> serve(ctx, "console/index.html", false));
        r.get("/models/{model}", ctx -> serve(ctx, "console/model.html", false));
        r.get("/docs", ctx -> serve(ctx, "console/docs.html", false));
        r.get("/console/<file>", ctx -> serve(ctx, "console/" + checked(ctx.pathParam("file")), false));
        r.get("/webjars/<file>", ctx -> serve(ctx, webjar(checked(ctx.pathParam("file"))), true));
    }

    /** The OpenAPI document, kept in one resource file. */
    static void openApi(Context ctx) throws IOException {
        serve(ctx, "openapi.json", false);
    }

    private static String checked(String path) {
        if (!SAFE.matcher(path).matches() || path.contains("..")) {
            throw new ApiException(404, "no such file: " + path);
        }
        return path;
    }

    /**
     * A webjar file without its version in the path ({@code chart.js/dist/chart.umd.js}), so the pages need no change
     * when the pom moves to a later version.
     */
    private static String webjar(String path) {
        int slash = path.indexOf('/');
        if (slash < 0) {
            throw new ApiException(404, "no such file: " + path);
        }
        String name = path.substring(0, slash);
        String version = WEBJAR_VERSIONS.computeIfAbsent(name, Console::webjarVersion);
        if (version.isEmpty()) {
            throw new ApiException(404, "no such file: " + path);
        }
        return "META-INF/resources/webjars/" + name + "/" + version + path.substring(slash);
    }

    private static String webjarVersion(String name) {
        for (String group : new String[] {"org.webjars.npm", "org.webjars"}) {
            try (InputStream in = Console.class.getClassLoader().getResourceAsStream(
                    "META-INF/maven/" + group + "/" + name + "/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    return p.getProperty("version", "");
                }
            } catch (IOException e) {
                return "";
            }
        }
        return "";
    }

    private static void serve(Context ctx, String resource, boolean immutable) throws IOException {
        InputStream in = Console.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            throw new ApiException(404, "no such file: " + ctx.path());
        }
        String ext = resource.substring(resource.lastIndexOf('.') + 1);
        ctx.contentType(TYPES.getOrDefault(ext, "application/octet-stream"));
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Cache-Control", immutable ? "public, max-age=86400" : "no-cache");
        if (ext.equals("html")) {
            ctx.header("Content-Security-Policy", POLICY);
            ctx.header("Referrer-Policy", "no-referrer");
        }
        try (in) {
            ctx.result(in.readAllBytes());
        }
    }
}
