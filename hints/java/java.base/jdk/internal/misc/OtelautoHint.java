/*
 * What the hinted JDK methods call (see otelauto.hint.Transformer). The
 * agent defines this class in java.base's package jdk.internal.misc (and
 * exports it to jdk.httpserver and java.net.http), so that the JDK classes
 * it changes reach it and the server and the client share its state. Not on
 * the bootstrap class path: appending to it makes HotSpot warn on stderr
 * (class sharing) and a traced program's stderr is its own.
 *
 * com.sun.net.httpserver reads a request's head on the thread that runs its
 * handler (the server's executor); java.net.http.HttpClient writes a
 * request's head on its own selector and worker threads, so the shim cannot
 * tell from the thread which incoming request a call is for. The handler's
 * thread knows: while it runs an exchange, a ThreadLocal holds a
 * placeholder traceparent naming that request by its connection's file
 * descriptor, its peer port and its number on the connection,
 * 00-<32 zeros>-<fd:6 hex><port:4 hex><n:6 hex>-00; an HttpClient request
 * built on that thread carries it (unless the program set a traceparent),
 * and the shim replaces it with its client span's own traceparent,
 * parented to that request. A request built on a thread that holds none, in
 * a process whose HttpServer started, carries the placeholder of no request
 * (all-zero parent id), so that the shim does not guess. A ThreadLocal, not
 * an InheritableThreadLocal: a thread that a handler starts would keep the
 * value after the request is answered, and pool threads outlive requests.
 *
 * Only reflection reaches the JDK's HTTP classes here (they are the
 * platform loader's, this class the bootstrap loader's); the members are
 * looked up once. Any failure turns that side off for good; nothing is thrown.
 */
package jdk.internal.misc;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.nio.channels.SocketChannel;
import java.util.Collections;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;

public final class OtelautoHint {
    private static final String NO_REQUEST = "00-00000000000000000000000000000000-0000000000000000-00";
    private static final ThreadLocal<String> CURRENT = new ThreadLocal<>();
    /* HttpConnection -> exchanges started on it (its request heads) */
    private static final Map<Object, int[]> EXCHANGES = Collections.synchronizedMap(new WeakHashMap<>());

    private static volatile boolean serving;
    private static volatile boolean serverBroken, clientBroken;
    private static volatile Field exchangeConnection, connectionChannel, channelFd;
    private static volatile Field requestUserHeaders, requestSystemHeaders;
    private static volatile Method requestUri, headersFirstValue, builderSetHeader;

    private OtelautoHint() {
    }

    /* sun.net.httpserver.ServerImpl.start(): from now on a client request
     * made for no request says so */
    public static void serving() {
        serving = true;
    }

    /* sun.net.httpserver.ExchangeImpl's constructor: a request head was read */
    public static void serverRequest(Object exchange) {
        if (serverBroken)
            return;
        try {
            serving = true;
            if (exchangeConnection == null)
                exchangeConnection = field(exchange, "connection");
            Object connection = exchangeConnection.get(exchange);
            if (connection == null) {
                CURRENT.remove();
                return;
            }
            int n;
            synchronized (EXCHANGES) {
                int[] count = EXCHANGES.get(connection);
                if (count == null)
                    EXCHANGES.put(connection, count = new int[1]);
                n = ++count[0];
            }
            CURRENT.set(placeholder(connection, n));
        } catch (Throwable t) {
            serverBroken = true;
            CURRENT.remove();
        }
    }

    /* The placeholder of request n on connection, null when it cannot be
     * named (not a TCP socket the JDK's own provider made). */
    private static String placeholder(Object connection, int n) throws Exception {
        if (connectionChannel == null)
            connectionChannel = field(connection, "chan");
        Object channel = connectionChannel.get(connection);
        if (!(channel instanceof SocketChannel))
            return null;
        if (channelFd == null)
            channelFd = field(channel, "fdVal");
        int fd = channelFd.getInt(channel);
        SocketAddress peer = ((SocketChannel) channel).getRemoteAddress();
        if (fd < 0 || fd > 0xFFFFFF || !(peer instanceof InetSocketAddress))
            return null;
        int port = ((InetSocketAddress) peer).getPort();
        return String.format("00-00000000000000000000000000000000-%06x%04x%06x-00", fd, port & 0xFFFF,
                n & 0xFFFFFF);
    }

    /* sun.net.httpserver.ServerImpl$Exchange.run() returns: the request is
     * handled (or its handler took it elsewhere) */
    public static void serverDone() {
        try {
            CURRENT.remove();
        } catch (Throwable t) {
            // nothing to undo
        }
    }

    /* jdk.internal.net.http.HttpRequestImpl's constructor, on the thread
     * that calls HttpClient.send/sendAsync */
    public static void clientRequest(Object request) {
        if (clientBroken)
            return;
        try {
            String value = CURRENT.get();
            if (value == null && !serving)
                return;
            if (value == null)
                value = NO_REQUEST;
            if (requestUri == null)
                requestUri = method(request, "uri");
            // the shim sees no TLS of the JDK's own: a placeholder there
            // would reach the peer as it is
            URI uri = (URI) requestUri.invoke(request);
            if (uri == null || !"http".equalsIgnoreCase(uri.getScheme()))
                return;
            if (requestUserHeaders == null)
                requestUserHeaders = field(request, "userHeaders");
            Object user = requestUserHeaders.get(request);
            if (headersFirstValue == null)
                headersFirstValue = method(user, "firstValue", String.class);
            // (the JDK's HTTP/1.1 writer also drops a system header the
            // program set; this holds for any version)
            if (((Optional<?>) headersFirstValue.invoke(user, "traceparent")).isPresent())
                return;
            if (requestSystemHeaders == null)
                requestSystemHeaders = field(request, "systemHeadersBuilder");
            Object system = requestSystemHeaders.get(request);
            if (builderSetHeader == null)
                builderSetHeader = method(system, "setHeader", String.class, String.class);
            builderSetHeader.invoke(system, "traceparent", value);
        } catch (Throwable t) {
            clientBroken = true;
        }
    }

    /* The field `name` of of's class, made accessible (its package is open
     * to java.base, or is java.base's own). */
    private static Field field(Object of, String name) throws NoSuchFieldException {
        Field f = of.getClass().getDeclaredField(name);
        f.setAccessible(true);
        return f;
    }

    /* The public method `name` of of's class, made accessible. */
    private static Method method(Object of, String name, Class<?>... params) throws NoSuchMethodException {
        Method m = of.getClass().getMethod(name, params);
        m.setAccessible(true);
        return m;
    }
}
