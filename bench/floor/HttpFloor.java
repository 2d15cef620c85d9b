import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import io.javalin.Javalin;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * The HTTP floor: servers that read a forecast request's body and answer a fixed forecast, no model and no JSON
 * parsing, on the same Jetty and Javalin as lstmcast. What they reach is the most any server on that stack can.
 *   java -cp 'target/lib/*' bench/floor/HttpFloor.java javalin|jetty-blocking|jetty-nonblocking PORT
 */
public class HttpFloor {
    private static final byte[] ANSWER = "{\"model_name\":\"dax\",\"model_version\":\"1\",\"forecasts\":[[1.0,2.0,3.0,4.0,5.0]]}"
            .getBytes(StandardCharsets.UTF_8);

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[1]);
        if (args[0].equals("javalin")) {
            Javalin.create(c -> {
                c.startup.showJavalinBanner = false;
                c.routes.post("/v1/models/{m}/forecast", ctx -> {
                    ctx.bodyAsBytes();
                    ctx.contentType("application/json");
                    ctx.result(ANSWER);
                });
            }).start("127.0.0.1", port);
            return;
        }
        boolean nonBlocking = args[0].equals("jetty-nonblocking");
        Server server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(port);
        server.addConnector(connector);
        server.setHandler(nonBlocking ? new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                return answer(request, response, callback);
            }
        } : new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                return answer(request, response, callback);
            }
        });
        server.start();
        server.join();
    }

    private static boolean answer(Request request, Response response, Callback callback) {
        Content.Source.asByteArrayAsync(request, 1 << 20).whenComplete((body, error) -> {
            response.getHeaders().put("Content-Type", "application/json");
            response.write(true, ByteBuffer.wrap(ANSWER), callback);
        });
        return true;
    }
}
