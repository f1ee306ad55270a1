/* The baseline for "what does interposition itself cost": a preload that
 * exports exactly the symbols libotelauto.so interposes and does nothing but
 * forward each call to the next definition (libc). scripts/measure-startup.sh
 * compares the shim against this object, so that the ratio measures our
 * engine (initialisation, bookkeeping) and not the dynamic linker's price for
 * any preload at all.
 *
 * The real symbols are bound once, from the constructor, so the forwarding
 * path is one indirect call like the shim's pass-through path. A call that
 * arrives before the constructor ran (another library's constructor) binds
 * through the same pthread_once. */
#include <dlfcn.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define PT_EXPORT __attribute__((visibility("default")))

struct passthrough_libc {
    int (*socket)(int, int, int);
    int (*connect)(int, const struct sockaddr *, socklen_t);
    int (*accept)(int, struct sockaddr *, socklen_t *);
    int (*accept4)(int, struct sockaddr *, socklen_t *, int);
    int (*close)(int);
    int (*dup)(int);
    int (*dup2)(int, int);
    int (*dup3)(int, int, int);
    ssize_t (*send)(int, const void *, size_t, int);
    ssize_t (*sendto)(int, const void *, size_t, int, const struct sockaddr *, socklen_t);
    ssize_t (*sendmsg)(int, const struct msghdr *, int);
    ssize_t (*recv)(int, void *, size_t, int);
    ssize_t (*recvfrom)(int, void *, size_t, int, struct sockaddr *, socklen_t *);
    ssize_t (*recvmsg)(int, struct msghdr *, int);
    ssize_t (*read)(int, void *, size_t);
    ssize_t (*write)(int, const void *, size_t);
    ssize_t (*readv)(int, const struct iovec *, int);
    ssize_t (*writev)(int, const struct iovec *, int);
    ssize_t (*sendfile)(int, int, off_t *, size_t);
    ssize_t (*sendfile64)(int, int, off_t *, size_t);
    ssize_t (*read_chk)(int, void *, size_t, size_t);
    ssize_t (*recv_chk)(int, void *, size_t, size_t, int);
    ssize_t (*recvfrom_chk)(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
};

static struct passthrough_libc real;
static pthread_once_t bind_once = PTHREAD_ONCE_INIT;

/* ISO C has no conversion from void * to a function pointer; POSIX makes
 * dlsym results usable by storing them through the pointer object itself. */
#define BIND(field, name) *(void **)&real.field = dlsym(RTLD_NEXT, name)

static void bind_real_symbols(void)
{
    BIND(socket, "socket");
    BIND(connect, "connect");
    BIND(accept, "accept");
    BIND(accept4, "accept4");
    BIND(close, "close");
    BIND(dup, "dup");
    BIND(dup2, "dup2");
    BIND(dup3, "dup3");
    BIND(send, "send");
    BIND(sendto, "sendto");
    BIND(sendmsg, "sendmsg");
    BIND(recv, "recv");
    BIND(recvfrom, "recvfrom");
    BIND(recvmsg, "recvmsg");
    BIND(read, "read");
    BIND(write, "write");
    BIND(readv, "readv");
    BIND(writev, "writev");
    BIND(sendfile, "sendfile");
    BIND(sendfile64, "sendfile64");
    BIND(read_chk, "__read_chk");
    BIND(recv_chk, "__recv_chk");
    BIND(recvfrom_chk, "__recvfrom_chk");
}

static inline void ensure_bound(void)
{
    pthread_once(&bind_once, bind_real_symbols);
}

__attribute__((constructor)) static void passthrough_init(void)
{
    ensure_bound();
}

PT_EXPORT int socket(int domain, int type, int protocol)
{
    ensure_bound();
    return real.socket(domain, type, protocol);
}

PT_EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
    ensure_bound();
    return real.connect(fd, addr, len);
}

PT_EXPORT int accept(int fd, struct sockaddr *addr, socklen_t *len)
{
    ensure_bound();
    return real.accept(fd, addr, len);
}

PT_EXPORT int accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags)
{
    ensure_bound();
    return real.accept4(fd, addr, len, flags);
}

PT_EXPORT int close(int fd)
{
    ensure_bound();
    return real.close(fd);
}

PT_EXPORT int dup(int fd)
{
    ensure_bound();
    return real.dup(fd);
}

PT_EXPORT int dup2(int oldfd, int newfd)
{
    ensure_bound();
    return real.dup2(oldfd, newfd);
}

PT_EXPORT int dup3(int oldfd, int newfd, int flags)
{
    ensure_bound();
    return real.dup3(oldfd, newfd, flags);
}

PT_EXPORT ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    ensure_bound();
    return real.send(fd, buf, len, flags);
}

PT_EXPORT ssize_t sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *addr,
                         socklen_t addrlen)
{
    ensure_bound();
    return real.sendto(fd, buf, len, flags, addr, addrlen);
}

PT_EXPORT ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    ensure_bound();
    return real.sendmsg(fd, msg, flags);
}

PT_EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags)
{
    ensure_bound();
    return real.recv(fd, buf, len, flags);
}

PT_EXPORT ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
                           socklen_t *addrlen)
{
    ensure_bound();
    return real.recvfrom(fd, buf, len, flags, addr, addrlen);
}

PT_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
    ensure_bound();
    return real.recvmsg(fd, msg, flags);
}

PT_EXPORT ssize_t read(int fd, void *buf, size_t len)
{
    ensure_bound();
    return real.read(fd, buf, len);
}

PT_EXPORT ssize_t write(int fd, const void *buf, size_t len)
{
    ensure_bound();
    return real.write(fd, buf, len);
}

PT_EXPORT ssize_t readv(int fd, const struct iovec *iov, int iovcnt)
{
    ensure_bound();
    return real.readv(fd, iov, iovcnt);
}

PT_EXPORT ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
    ensure_bound();
    return real.writev(fd, iov, iovcnt);
}

PT_EXPORT ssize_t sendfile(int out_fd, int in_fd, off_t *offset, size_t count)
{
    ensure_bound();
    return real.sendfile(out_fd, in_fd, offset, count);
}

PT_EXPORT ssize_t sendfile64(int out_fd, int in_fd, off_t *offset, size_t count)
{
    ensure_bound();
    return real.sendfile64(out_fd, in_fd, offset, count);
}

PT_EXPORT ssize_t __read_chk(int fd, void *buf, size_t len, size_t buflen)
{
    ensure_bound();
    return real.read_chk(fd, buf, len, buflen);
}

PT_EXPORT ssize_t __recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
    ensure_bound();
    return real.recv_chk(fd, buf, len, buflen, flags);
}

PT_EXPORT ssize_t __recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
                                 struct sockaddr *addr, socklen_t *addrlen)
{
    ensure_bound();
    return real.recvfrom_chk(fd, buf, len, buflen, flags, addr, addrlen);
}

/* ---- exec, spawn and system (hooks/exec.c), bound from the constructor ---- */

#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>

extern char **environ;

typedef int (*pt_spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
                           const posix_spawnattr_t *, char *const[], char *const[]);

static struct {
    int (*execve)(const char *, char *const[], char *const[]);
    int (*execvpe)(const char *, char *const[], char *const[]);
    int (*fexecve)(int, char *const[], char *const[]);
    int (*execveat)(int, const char *, char *const[], char *const[], int);
    pt_spawn_fn posix_spawn;
    pt_spawn_fn posix_spawnp;
    int (*system)(const char *);
} real_exec;

#define BIND_EXEC(field, name) *(void **)&real_exec.field = dlsym(RTLD_NEXT, name)

__attribute__((constructor)) static void passthrough_exec_init(void)
{
    BIND_EXEC(execve, "execve");
    BIND_EXEC(execvpe, "execvpe");
    BIND_EXEC(fexecve, "fexecve");
    BIND_EXEC(execveat, "execveat");
    BIND_EXEC(posix_spawn, "posix_spawn");
    BIND_EXEC(posix_spawnp, "posix_spawnp");
    BIND_EXEC(system, "system");
}

PT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    return real_exec.execve(path, argv, envp);
}

PT_EXPORT int execv(const char *path, char *const argv[])
{
    return real_exec.execve(path, argv, environ);
}

PT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    return real_exec.execvpe(file, argv, envp);
}

PT_EXPORT int execvp(const char *file, char *const argv[])
{
    return real_exec.execvpe(file, argv, environ);
}

PT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    return real_exec.fexecve(fd, argv, envp);
}

PT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    return real_exec.execveat(dirfd, path, argv, envp, flags);
}

static size_t pt_list_length(const char *arg0, va_list ap)
{
    size_t n = 0;
    if (arg0 != NULL)
        for (n = 1; va_arg(ap, char *) != NULL; n++)
            ;
    return n;
}

#define PT_EXEC_LIST(call, arg0, with_env)                                     \
    do {                                                                       \
        va_list ap;                                                            \
        va_start(ap, arg0);                                                    \
        size_t n = pt_list_length(arg0, ap);                                   \
        va_end(ap);                                                            \
        char *argv[n + 1];                                                     \
        va_start(ap, arg0);                                                    \
        argv[0] = (char *)arg0;                                                \
        for (size_t i = 1; i < n; i++)                                         \
            argv[i] = va_arg(ap, char *);                                      \
        if (n > 0)                                                             \
            (void)va_arg(ap, char *);                                          \
        argv[n] = NULL;                                                        \
        char *const *envp = with_env ? va_arg(ap, char *const *) : environ;    \
        va_end(ap);                                                            \
        return call;                                                           \
    } while (0)

PT_EXPORT int execl(const char *path, const char *arg, ...)
{
    PT_EXEC_LIST(real_exec.execve(path, argv, envp), arg, 0);
}

PT_EXPORT int execle(const char *path, const char *arg, ...)
{
    PT_EXEC_LIST(real_exec.execve(path, argv, envp), arg, 1);
}

PT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    PT_EXEC_LIST(real_exec.execvpe(file, argv, envp), arg, 0);
}

PT_EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
                          const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return real_exec.posix_spawn(pid, path, actions, attr, argv, envp);
}

PT_EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
                           const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
    return real_exec.posix_spawnp(pid, file, actions, attr, argv, envp);
}

PT_EXPORT int system(const char *command)
{
    return real_exec.system(command);
}

/* ---- OpenSSL (hooks/openssl.c) and libcurl (hooks/libcurl.c) ----
 * Bound on first use, as the shim does: a program that never calls them
 * never looks them up. Only pointers pass through, so the libraries' own
 * types are not needed here. */
#define PT_LAZY(name)                                                              \
    static void *real_##name;                                                      \
    if (__atomic_load_n(&real_##name, __ATOMIC_ACQUIRE) == NULL)                   \
        __atomic_store_n(&real_##name, dlsym(RTLD_NEXT, #name), __ATOMIC_RELEASE)

typedef int (*pt_io_fn)(void *, void *, int);
typedef int (*pt_io_ex_fn)(void *, void *, size_t, size_t *);
typedef int (*pt_handle_fn)(void *);
typedef void (*pt_void_fn)(void *);
typedef int (*pt_pair_fn)(void *, void *);
typedef void *(*pt_dup_fn)(void *);
typedef int (*pt_setopt_fn)(void *, int, void *);
typedef int (*pt_running_fn)(void *, int *);
typedef int (*pt_socket_action_fn)(void *, int, int, int *);

PT_EXPORT int SSL_read(void *ssl, void *buf, int num)
{
    PT_LAZY(SSL_read);
    return ((pt_io_fn)real_SSL_read)(ssl, buf, num);
}

PT_EXPORT int SSL_write(void *ssl, const void *buf, int num)
{
    PT_LAZY(SSL_write);
    return ((pt_io_fn)real_SSL_write)(ssl, (void *)buf, num);
}

PT_EXPORT int SSL_read_ex(void *ssl, void *buf, size_t num, size_t *readbytes)
{
    PT_LAZY(SSL_read_ex);
    return ((pt_io_ex_fn)real_SSL_read_ex)(ssl, buf, num, readbytes);
}

PT_EXPORT int SSL_write_ex(void *ssl, const void *buf, size_t num, size_t *written)
{
    PT_LAZY(SSL_write_ex);
    return ((pt_io_ex_fn)real_SSL_write_ex)(ssl, (void *)buf, num, written);
}

PT_EXPORT int curl_easy_setopt(void *h, int option, ...)
{
    va_list ap;
    va_start(ap, option);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    PT_LAZY(curl_easy_setopt);
    return ((pt_setopt_fn)real_curl_easy_setopt)(h, option, arg);
}

PT_EXPORT int curl_easy_perform(void *h)
{
    PT_LAZY(curl_easy_perform);
    return ((pt_handle_fn)real_curl_easy_perform)(h);
}

PT_EXPORT void curl_easy_reset(void *h)
{
    PT_LAZY(curl_easy_reset);
    ((pt_void_fn)real_curl_easy_reset)(h);
}

PT_EXPORT void curl_easy_cleanup(void *h)
{
    PT_LAZY(curl_easy_cleanup);
    ((pt_void_fn)real_curl_easy_cleanup)(h);
}

PT_EXPORT void *curl_easy_duphandle(void *h)
{
    PT_LAZY(curl_easy_duphandle);
    return ((pt_dup_fn)real_curl_easy_duphandle)(h);
}

PT_EXPORT int curl_multi_add_handle(void *m, void *h)
{
    PT_LAZY(curl_multi_add_handle);
    return ((pt_pair_fn)real_curl_multi_add_handle)(m, h);
}

PT_EXPORT int curl_multi_remove_handle(void *m, void *h)
{
    PT_LAZY(curl_multi_remove_handle);
    return ((pt_pair_fn)real_curl_multi_remove_handle)(m, h);
}

PT_EXPORT int curl_multi_perform(void *m, int *running)
{
    PT_LAZY(curl_multi_perform);
    return ((pt_running_fn)real_curl_multi_perform)(m, running);
}

PT_EXPORT int curl_multi_socket_action(void *m, int s, int ev_bitmask, int *running)
{
    PT_LAZY(curl_multi_socket_action);
    return ((pt_socket_action_fn)real_curl_multi_socket_action)(m, s, ev_bitmask, running);
}

PT_EXPORT void *curl_multi_info_read(void *m, int *msgs_in_queue)
{
    PT_LAZY(curl_multi_info_read);
    return ((void *(*)(void *, int *))real_curl_multi_info_read)(m, msgs_in_queue);
}
