// A Java service on the JDK's own HTTP server and client (no SDK, no tracing
// code): GET /id/N calls the backend with ?id=N through
// java.net.http.HttpClient.send and answers "N STATUS". The server's
// executor is a fixed pool of threads; the client writes its requests from
// its own threads.
//   java JavaLoopService service BACKEND_URL READY_FILE [--background-ms MS]
//   java JavaLoopService get URL [--serving]
//                                   (one request; prints the answer's body;
//                                   --serving: with an HttpServer started)
//   java JavaLoopService env        (prints JAVA_TOOL_OPTIONS as the program
//                                    sees it, and a line on stderr)
// --background-ms: a scheduled job that calls the backend (?id=bgK) every MS
// ms, on behalf of no request.
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

public class JavaLoopService {
    // HTTP/1.1; JAVA_LOOP_CLIENT=default: HttpClient.newHttpClient() (HTTP/2
    // preferred: an http: request asks for an upgrade to h2c)
    static final HttpClient CLIENT = "default".equals(System.getenv("JAVA_LOOP_CLIENT"))
            ? HttpClient.newHttpClient()
            : HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    static String call(String url) {
        try {
            HttpResponse<String> r = CLIENT.send(HttpRequest.newBuilder(URI.create(url)).build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + "\n" + r.body();
        } catch (IOException | InterruptedException e) {
            return "error " + e.getClass().getSimpleName() + "\n";
        }
    }

    static void answer(HttpExchange x, int status, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("content-type", "text/plain");
        x.sendResponseHeaders(status, b.length == 0 ? -1 : b.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(b);
        }
    }

    public static void main(String[] args) throws Exception {
        if (args[0].equals("get")) {
            HttpServer server = null;
            if (args.length > 2 && args[2].equals("--serving")) {
                server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
                server.start();
            }
            String r = call(args[1]);
            System.out.print(r.substring(r.indexOf('\n') + 1));
            if (server != null)
                server.stop(0);
            return;
        }
        if (args[0].equals("env")) {
            System.out.println("JAVA_TOOL_OPTIONS=" + System.getenv("JAVA_TOOL_OPTIONS"));
            System.err.println("a line of the program's own on stderr");
            return;
        }
        String backend = args[1];
        Path ready = Path.of(args[2]);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
        server.createContext("/", x -> {
            String path = x.getRequestURI().getPath();
            if (!path.startsWith("/id/")) {
                answer(x, 404, "");
                return;
            }
            String id = path.substring(4);
            String r = call(backend + "/status/200?id=" + id);
            answer(x, 200, id + " " + r.substring(0, r.indexOf('\n')) + "\n");
        });
        server.setExecutor(Executors.newFixedThreadPool(16));
        server.start();
        for (int i = 3; i + 1 < args.length; i++) {
            if (args[i].equals("--background-ms")) {
                ScheduledExecutorService bg = Executors.newSingleThreadScheduledExecutor();
                AtomicInteger k = new AtomicInteger();
                long ms = Long.parseLong(args[i + 1]);
                bg.scheduleAtFixedRate(() -> call(backend + "/status/200?id=bg" + k.incrementAndGet()), ms, ms,
                        TimeUnit.MILLISECONDS);
            }
        }
        Path tmp = Path.of(args[2] + ".tmp");
        Files.writeString(tmp, server.getAddress().getPort() + "\n");
        Files.move(tmp, ready, StandardCopyOption.ATOMIC_MOVE);
    }
}
