/* The real libc functions behind the interposed socket symbols (see
 * real_libc.h): bound once, lazily, with dlsym(RTLD_NEXT). The bottom of the
 * engine: the hooks pass through to it, and the shim's own I/O (header
 * injection, the Prometheus endpoint) calls it instead of the exported
 * symbols. */
#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "sys/real_libc.h"

struct oa_libc oa_libc;

static pthread_once_t bind_once = PTHREAD_ONCE_INIT;
static __thread int binding_on_this_thread __attribute__((tls_model("initial-exec")));

static void *bind_symbol(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    /* dlerror() state is per thread and may hold an allocated message:
     * leave it clean for the program. */
    if (p == NULL)
        (void)dlerror();
    return p;
}

static void bind_all(void)
{
    binding_on_this_thread = 1;
    struct oa_libc t;
    t.socket = bind_symbol("socket");
    t.connect = bind_symbol("connect");
    t.accept = bind_symbol("accept");
    t.accept4 = bind_symbol("accept4");
    t.close = bind_symbol("close");
    t.dup = bind_symbol("dup");
    t.dup2 = bind_symbol("dup2");
    t.dup3 = bind_symbol("dup3");
    t.send = bind_symbol("send");
    t.sendto = bind_symbol("sendto");
    t.sendmsg = bind_symbol("sendmsg");
    t.recv = bind_symbol("recv");
    t.recvfrom = bind_symbol("recvfrom");
    t.recvmsg = bind_symbol("recvmsg");
    t.read = bind_symbol("read");
    t.write = bind_symbol("write");
    t.readv = bind_symbol("readv");
    t.writev = bind_symbol("writev");
    t.sendfile = bind_symbol("sendfile");
    t.sendfile64 = bind_symbol("sendfile64");
    t.read_chk = bind_symbol("__read_chk");
    t.recv_chk = bind_symbol("__recv_chk");
    t.recvfrom_chk = bind_symbol("__recvfrom_chk");
    /* Publish field by field with release stores: a hook on another thread
     * either sees NULL (and waits in pthread_once) or the real function. */
    void **dst = (void **)&oa_libc;
    void **src = (void **)&t;
    for (size_t i = 0; i < sizeof(t) / sizeof(void *); i++)
        __atomic_store_n(&dst[i], src[i], __ATOMIC_RELEASE);
    binding_on_this_thread = 0;
}

void oa_libc_bind(void)
{
    if (binding_on_this_thread)
        return;
    pthread_once(&bind_once, bind_all);
}

