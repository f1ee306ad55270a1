/* A one-connection HTTP server that, while handling each request, starts
 * /usr/bin/env with the exec or spawn function the request names and lets
 * it print its environment into OUT_DIR/<name>.env: shows which entry points
 * pass the trace context to children.
 *
 *   exec_variants PORT_FILE OUT_DIR
 *
 * GET /<name> for name in execl execle execlp execv execvp execvpe fexecve
 * execveat posix_spawn posix_spawnp; answers 200 once the child exited (500
 * if it failed). Serves one keep-alive connection, then exits. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void run_variant(const char *name, int out)
{
    char *argv[] = {"env", NULL};
    char *envp_extra[] = {"EXPLICIT=1", NULL};
    if (dup2(out, 1) < 0)
        _exit(126);
    if (strcmp(name, "execl") == 0)
        execl("/usr/bin/env", "env", (char *)NULL);
    else if (strcmp(name, "execle") == 0)
        execle("/usr/bin/env", "env", (char *)NULL, envp_extra);
    else if (strcmp(name, "execlp") == 0)
        execlp("env", "env", (char *)NULL);
    else if (strcmp(name, "execv") == 0)
        execv("/usr/bin/env", argv);
    else if (strcmp(name, "execvp") == 0)
        execvp("env", argv);
    else if (strcmp(name, "execvpe") == 0)
        execvpe("env", argv, envp_extra);
    else if (strcmp(name, "fexecve") == 0) {
        int fd = open("/usr/bin/env", O_RDONLY | O_CLOEXEC);
        fexecve(fd, argv, envp_extra);
    } else if (strcmp(name, "execveat") == 0)
        execveat(AT_FDCWD, "/usr/bin/env", argv, envp_extra, 0);
    _exit(127);
}

static int start_child(const char *name, int out)
{
    pid_t pid;
    if (strncmp(name, "posix_spawn", 11) == 0) {
        char *argv[] = {"env", NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out, 1);
        int rc = strcmp(name, "posix_spawnp") == 0 ? posix_spawnp(&pid, "env", &fa, NULL, argv, environ)
                                                    : posix_spawn(&pid, "/usr/bin/env", &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (rc != 0)
            return -1;
    } else {
        pid = fork();
        if (pid == 0)
            run_variant(name, out);
        if (pid < 0)
            return -1;
    }
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 4) != 0 ||
        getsockname(ls, (struct sockaddr *)&a, &al) != 0)
        return 1;
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s.tmp", argv[1]);
    FILE *pf = fopen(tmp, "w");
    if (pf == NULL)
        return 1;
    fprintf(pf, "%d\n", ntohs(a.sin_port));
    fclose(pf);
    rename(tmp, argv[1]);
    int c = accept(ls, NULL, NULL);
    char buf[8192];
    size_t have = 0;
    for (;;) {
        char *end = have > 0 ? memmem(buf, have, "\r\n\r\n", 4) : NULL;
        if (end == NULL) {
            ssize_t n = read(c, buf + have, sizeof(buf) - have);
            if (n <= 0)
                break;
            have += (size_t)n;
            continue;
        }
        char name[64] = "";
        sscanf(buf, "GET /%63[a-z_]", name);
        snprintf(tmp, sizeof(tmp), "%s/%s.env", argv[2], name);
        int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int rc = out >= 0 ? start_child(name, out) : -1;
        if (out >= 0)
            close(out);
        const char *answer = rc == 0 ? "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                                     : "HTTP/1.1 500 Failed\r\nContent-Length: 0\r\n\r\n";
        if (write(c, answer, strlen(answer)) < 0)
            break;
        size_t used = (size_t)(end + 4 - buf);
        memmove(buf, buf + used, have - used);
        have -= used;
    }
    close(c);
    close(ls);
    return 0;
}
