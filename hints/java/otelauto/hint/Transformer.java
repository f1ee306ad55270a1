/*
 * The calls to OtelautoHint that the agent adds to the JDK's HTTP server and
 * client, with the JDK's own class-file library (jdk.internal.org.objectweb.asm,
 * in java.base: no dependency of ours). Each is one static call added at a
 * method's start or before its returns, no branch: the methods keep their
 * stack map frames, only their maximum stack grows.
 *
 *   sun.net.httpserver.ServerImpl.start()        at the start: OtelautoHint.serving()
 *   sun.net.httpserver.ExchangeImpl.<init>(String, URI, Request, long,
 *       HttpConnection), made on the thread that will run the handler once
 *       the request head is read               before returns: OtelautoHint.serverRequest(this)
 *   sun.net.httpserver.ServerImpl$Exchange.run() before returns: OtelautoHint.serverDone()
 *   jdk.internal.net.http.HttpRequestImpl.<init>(HttpRequest, ProxySelector),
 *       made by HttpClient.send/sendAsync on the calling thread
 *                                               before returns: OtelautoHint.clientRequest(this)
 *
 * A class without the method (another JDK) is left as it is; any failure
 * leaves the class as it is.
 */
package otelauto.hint;

import java.lang.instrument.ClassFileTransformer;
import java.security.ProtectionDomain;

import jdk.internal.org.objectweb.asm.ClassReader;
import jdk.internal.org.objectweb.asm.ClassVisitor;
import jdk.internal.org.objectweb.asm.ClassWriter;
import jdk.internal.org.objectweb.asm.MethodVisitor;
import jdk.internal.org.objectweb.asm.Opcodes;

public final class Transformer implements ClassFileTransformer {
    private static final String HINT = "jdk/internal/misc/OtelautoHint";

    /* where a call goes and which: the method, at its start or before each
     * return, OtelautoHint's method, with `this` or without */
    private static final class Site {
        final String cls, method, desc, hook;
        final boolean atStart, withThis;

        Site(String cls, String method, String desc, boolean atStart, String hook, boolean withThis) {
            this.cls = cls;
            this.method = method;
            this.desc = desc;
            this.atStart = atStart;
            this.hook = hook;
            this.withThis = withThis;
        }
    }

    private static final Site[] SITES = {
        new Site("sun/net/httpserver/ServerImpl", "start", "()V", true, "serving", false),
        new Site("sun/net/httpserver/ExchangeImpl", "<init>",
                "(Ljava/lang/String;Ljava/net/URI;Lsun/net/httpserver/Request;JLsun/net/httpserver/HttpConnection;)V",
                false, "serverRequest", true),
        new Site("sun/net/httpserver/ServerImpl$Exchange", "run", "()V", false, "serverDone", false),
        new Site("jdk/internal/net/http/HttpRequestImpl", "<init>",
                "(Ljava/net/http/HttpRequest;Ljava/net/ProxySelector;)V", false, "clientRequest", true),
    };

    @Override
    public byte[] transform(Module module, ClassLoader loader, String className, Class<?> redefined,
            ProtectionDomain domain, byte[] bytes) {
        if (className == null || redefined != null)
            return null;
        Site site = null;
        for (Site s : SITES)
            if (s.cls.equals(className))
                site = s;
        if (site == null)
            return null;
        try {
            return rewrite(bytes, site);
        } catch (Throwable t) {
            return null;
        }
    }

    private static byte[] rewrite(byte[] bytes, Site site) {
        ClassReader reader = new ClassReader(bytes);
        ClassWriter writer = new ClassWriter(reader, ClassWriter.COMPUTE_MAXS);
        boolean[] done = {false};
        reader.accept(new ClassVisitor(Opcodes.ASM8, writer) {
            @Override
            public MethodVisitor visitMethod(int access, String name, String desc, String signature,
                    String[] exceptions) {
                MethodVisitor mv = super.visitMethod(access, name, desc, signature, exceptions);
                if (!name.equals(site.method) || !desc.equals(site.desc))
                    return mv;
                done[0] = true;
                return new MethodVisitor(Opcodes.ASM8, mv) {
                    @Override
                    public void visitCode() {
                        super.visitCode();
                        if (site.atStart)
                            call();
                    }

                    @Override
                    public void visitInsn(int opcode) {
                        if (opcode == Opcodes.RETURN && !site.atStart)
                            call();
                        super.visitInsn(opcode);
                    }

                    private void call() {
                        if (site.withThis) {
                            super.visitVarInsn(Opcodes.ALOAD, 0);
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, HINT, site.hook, "(Ljava/lang/Object;)V",
                                    false);
                        } else {
                            super.visitMethodInsn(Opcodes.INVOKESTATIC, HINT, site.hook, "()V", false);
                        }
                    }
                };
            }
        }, 0);
        return done[0] ? writer.toByteArray() : null;
    }
}
