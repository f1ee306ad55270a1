/*
 * otelauto's runtime hint for Java (README "Runtime hints"): the agent's
 * entry point.
 *
 * libotelauto.so, in a java process, puts -javaagent:<this jar> first in
 * JAVA_TOOL_OPTIONS. Without the shim in the process (/proc/self/maps: a
 * child started without it but with the variable) this does nothing. Else
 * it defines jdk.internal.misc.OtelautoHint (the compiled class is a
 * resource of this jar) in java.base, exports it to the JDK's HTTP server
 * and client modules, opens to it what it reads by reflection (the
 * server's exchange, the client's request headers), exports the JDK's own
 * class-file library to the transformer, and registers the transformer,
 * which adds calls to OtelautoHint to those modules' classes as they load.
 *
 * Anything unexpected (another JDK, a module or class missing): nothing is
 * registered and the program runs as without the agent. Nothing is thrown
 * and nothing is printed.
 */
package otelauto.hint;

import java.io.InputStream;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

public final class Agent {
    private static final String HINT_PACKAGE = "jdk.internal.misc";
    private static final String HINT_CLASS = HINT_PACKAGE + ".OtelautoHint";

    private Agent() {
    }

    public static void premain(String args, Instrumentation inst) {
        try {
            if (shimLoaded())
                install(inst);
        } catch (Throwable t) {
            // no hint rather than a changed program
        }
    }

    private static boolean shimLoaded() throws Exception {
        String maps = new String(Files.readAllBytes(Path.of("/proc/self/maps")), StandardCharsets.ISO_8859_1);
        return maps.contains("libotelauto");
    }

    private static void install(Instrumentation inst) throws Throwable {
        Optional<Module> server = ModuleLayer.boot().findModule("jdk.httpserver");
        Optional<Module> client = ModuleLayer.boot().findModule("java.net.http");
        if (server.isEmpty() && client.isEmpty())
            return;
        byte[] hintClass;
        try (InputStream in = Agent.class.getResourceAsStream("OtelautoHint.bytes")) {
            if (in == null)
                return;
            hintClass = in.readAllBytes();
        }
        Module ours = Agent.class.getModule();
        Module base = Object.class.getModule();
        Set<Module> users = new HashSet<>();
        server.ifPresent(users::add);
        client.ifPresent(users::add);
        inst.redefineModule(base, Set.of(), Map.of("jdk.internal.org.objectweb.asm", Set.of(ours), HINT_PACKAGE, users),
                Map.of(HINT_PACKAGE, Set.of(ours)), Set.of(), Map.of());
        if (server.isPresent())
            inst.redefineModule(server.get(), Set.of(), Map.of(), Map.of("sun.net.httpserver", Set.of(base)), Set.of(),
                    Map.of());
        if (client.isPresent()) {
            Map<String, Set<Module>> opens = new HashMap<>();
            opens.put("jdk.internal.net.http", Set.of(base));
            opens.put("jdk.internal.net.http.common", Set.of(base));
            inst.redefineModule(client.get(), Set.of(), Map.of(), opens, Set.of(), Map.of());
        }
        Class<?> anchor = Class.forName(HINT_PACKAGE + ".VM", false, null);
        MethodHandles.privateLookupIn(anchor, MethodHandles.lookup()).defineClass(hintClass);
        Object transformer = Class.forName("otelauto.hint.Transformer", true, Agent.class.getClassLoader())
                .getDeclaredConstructor().newInstance();
        inst.addTransformer((ClassFileTransformer) transformer);
    }
}
